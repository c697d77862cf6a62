// The Kotlin sample of the README's "For app developers" section, compiled and
// run by the Kotlin tests; sdk/tests/readme_samples.rs checks the README shows
// exactly the lines between the markers.
package io.safelane

// README:begin
import io.safelane.ffi.*

fun recordAndSync(db: String, imu: List<ImuSample>, fixes: List<GpsFix>, send: (HttpRequest) -> HttpResponse): SyncReport {
    val sdk = Safelane(Config(Vehicle.CAR, Platform.ANDROID, db, 100_000uL, /* autoTrips */ false, /* utcOffsetMin */ 0))
    sdk.setListener(alertListener { alert -> println("alert: ${alert.kind} (${alert.severity})") })
    sdk.startTrip(System.currentTimeMillis(), imu.first().timestamp / 1e9)
    val batcher = ImuBatcher(sdk, 100) // one call into Rust per 100 samples
    for (s in imu) batcher.add(s.timestamp.toLong(), s.ax.toFloat(), s.ay.toFloat(), s.az.toFloat())
    batcher.flush()
    sdk.pushGps(fixes)
    val trip = sdk.stopTrip()
    println("trip ${trip.tripId}: ${trip.distanceM.toInt()} m, events ${trip.events}")
    // In a background worker: the app's HTTP stack sends, the SDK retries and marks what the server acknowledged.
    return sdk.sync(httpTransport(send), defaultSyncSettings("https://fleet.example.com", "device-1", "secret"))
}
// README:end
