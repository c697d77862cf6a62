//! # safelane-sdk
//!
//! The std layer a driver app embeds around the core: trip sessions
//! (manual or automatic), batches of platform samples in, real-time alerts
//! out, every event written to an on-device SQLite outbox before it is
//! reported, and sync to the server with idempotency keys, backoff and
//! back-pressure. The Kotlin and Swift bindings wrap this crate.
//!
//! ```no_run
//! use safelane_sdk::{Platform, Sdk, SdkConfig, SyncConfig, ThreadSleeper, HttpTransport};
//! use safelane_core::VehicleProfile;
//! # fn main() -> Result<(), safelane_sdk::SdkError> {
//! let sdk = Sdk::open(SdkConfig::new(VehicleProfile::Car, Platform::Android, Some("outbox.db".into())))?;
//! sdk.start_trip(1_763_800_000_000, 1234.5)?;
//! // sdk.push_imu(&batch)?; sdk.push_gps(&fixes)?;
//! let summary = sdk.stop_trip()?;
//! let report = sdk.sync(&HttpTransport::default(), &SyncConfig::new("http://127.0.0.1:8080", "dev1", "secret"), &mut ThreadSleeper)?;
//! # let _ = (summary, report); Ok(()) }
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
pub mod http;
pub mod outbox;
pub mod platform;
pub mod session;
pub mod sync;

pub use error::SdkError;
pub use http::HttpTransport;
pub use outbox::{Outbox, OutboxCounts};
pub use platform::{Platform, PlatformGps, PlatformImu};
pub use session::{
    AlertListener, AutoTripConfig, OrientationInfo, PushResult, Sdk, SdkConfig, TileUpdate,
    TripSummary,
};
pub use sync::{
    HttpRequest, HttpResponse, Sleeper, SyncConfig, SyncReport, ThreadSleeper, Transport,
};
