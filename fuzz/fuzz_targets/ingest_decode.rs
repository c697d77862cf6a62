//! The server's ingestion decoder (`safelane_wire::check`: the body of
//! `POST /v1/events` and `POST /v1/pings`, then every item's rules) on
//! arbitrary bytes: an error naming what is wrong, or items that each pass
//! or name a field; never a panic. The accepted items (what the server
//! stores) encode and decode to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safelane_wire::check;

const NOW_UNIX_MS: i64 = 1_763_800_000_000;

fuzz_target!(|body: &[u8]| {
    match check::decode_event_batch(body) {
        Err(e) => assert!(!e.is_empty()),
        Ok(mut batch) => {
            batch
                .events
                .retain(|e| match check::check_event(e, NOW_UNIX_MS) {
                    Some(why) => {
                        assert!(why.contains(':'), "a refusal names its field: {why}");
                        false
                    }
                    None => true,
                });
            batch
                .trips
                .retain(|t| match check::check_trip(t, NOW_UNIX_MS) {
                    Some(why) => {
                        assert!(why.contains(':'), "a refusal names its field: {why}");
                        false
                    }
                    None => true,
                });
            let again = serde_json::to_vec(&batch).expect("a decoded batch encodes");
            let back = check::decode_event_batch(&again).expect("and decodes again");
            assert_eq!(format!("{back:?}"), format!("{batch:?}"));
        }
    }
    if let Ok(pings) = check::decode_ping_batch(body) {
        for p in &pings.pings {
            if let Some(why) = check::check_ping(p, NOW_UNIX_MS) {
                assert!(why.contains(':'), "a refusal names its field: {why}");
            }
        }
    }
});
