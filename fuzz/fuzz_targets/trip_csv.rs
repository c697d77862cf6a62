//! The trip CSV reader (`safelane_trip::parse_trip`, the same code as
//! `read_trip` on a directory) on arbitrary file contents: an error naming
//! the file, or a trip; never a panic. A trip read back after writing it
//! must be the same trip.
#![no_main]

use std::path::Path;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const IMU_HEADER: &[u8] = b"t_s,ax,ay,az,gx,gy,gz\n";
const GPS_HEADER: &[u8] = b"t_s,lat,lon,speed_mps,bearing_deg,accuracy_m\n";
const TRUTH_HEADER: &[u8] = b"kind,direction,start_s,end_s\n";

#[derive(Arbitrary, Debug)]
struct Files<'a> {
    /// Bit 0-2: give imu/gps/truth their right header (the rows are where
    /// the bugs hide; a wrong header is found at once).
    headers: u8,
    imu: &'a [u8],
    gps: &'a [u8],
    truth: Option<&'a [u8]>,
    orientation: Option<&'a [u8]>,
}

fn with_header(on: bool, header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(header.len() + body.len());
    if on {
        v.extend_from_slice(header);
    }
    v.extend_from_slice(body);
    v
}

fuzz_target!(|f: Files<'_>| {
    let imu = with_header(f.headers & 1 != 0, IMU_HEADER, f.imu);
    let gps = with_header(f.headers & 2 != 0, GPS_HEADER, f.gps);
    let mut files: Vec<(&str, &[u8])> = vec![("imu.csv", &imu), ("gps.csv", &gps)];
    let truth = f
        .truth
        .map(|t| with_header(f.headers & 4 != 0, TRUTH_HEADER, t));
    if let Some(t) = &truth {
        files.push(("truth.csv", t));
    }
    if let Some(o) = f.orientation {
        files.push(("truth_orientation.csv", o));
    }
    match safelane_trip::parse_trip(Path::new("fuzz"), &files) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("fuzz/"), "the error names the file: {msg}");
        }
        Ok(trip) => {
            // Written and read again: the same trip (NaN compared as text).
            let dir = std::env::temp_dir().join(format!("safelane-fuzz-{}", std::process::id()));
            // A fresh folder each time: files of an earlier input must not linger.
            let _ = std::fs::remove_dir_all(&dir);
            if safelane_trip::write_trip(&dir, &trip).is_ok() {
                let back = safelane_trip::read_trip(&dir).expect("a written trip reads back");
                assert_eq!(format!("{back:?}"), format!("{trip:?}"));
            }
        }
    }
});
