//! A simulated trip pushed into the SDK the way a phone app does: Android
//! batches of 100 IMU samples, the GPS fixes that arrived meanwhile after
//! each batch.

use safelane_sdk::{PlatformGps, PlatformImu, Sdk, SdkError};
use safelane_trip::Trip;

/// Pushes every sample and fix of `trip` into the running trip of `sdk`.
pub fn push_trip(sdk: &Sdk, trip: &Trip) -> Result<(), SdkError> {
    let imu: Vec<PlatformImu> = trip.imu.iter().map(PlatformImu::android).collect();
    let gps: Vec<PlatformGps> = trip.gps.iter().map(PlatformGps::android).collect();
    let mut gi = 0;
    for batch in imu.chunks(100) {
        sdk.push_imu(batch)?;
        let end = batch.last().map_or(0.0, |x| x.timestamp);
        let from = gi;
        while gi < gps.len() && gps[gi].timestamp <= end {
            gi += 1;
        }
        sdk.push_gps(&gps[from..gi])?;
    }
    sdk.push_gps(&gps[gi..])?;
    Ok(())
}
