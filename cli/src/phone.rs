//! A simulated trip pushed into the SDK the way a phone app does: Android
//! batches of 100 IMU samples, the GPS fixes that arrived meanwhile after
//! each batch.

use safelane_sdk::{PlatformGps, PlatformImu, Sdk, SdkError};
use safelane_trip::Trip;

/// Pushes every sample and fix of `trip` into the running trip of `sdk`,
/// in the order [`safelane_fixtures::eval::delivery_batches`] gives (the one
/// `backtest --batched` replays).
pub fn push_trip(sdk: &Sdk, trip: &Trip) -> Result<(), SdkError> {
    let imu: Vec<PlatformImu> = trip.imu.iter().map(PlatformImu::android).collect();
    let gps: Vec<PlatformGps> = trip.gps.iter().map(PlatformGps::android).collect();
    for (i, g) in safelane_fixtures::eval::delivery_batches(trip, 100) {
        if !i.is_empty() {
            sdk.push_imu(&imu[i])?;
        }
        sdk.push_gps(&gps[g])?;
    }
    Ok(())
}
