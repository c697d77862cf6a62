// The Swift sample of the README's "For app developers" section, compiled and
// run by the XCTest tests; sdk/tests/readme_samples.rs checks the README shows
// exactly the lines between the markers.
import Foundation

// README:begin
import Safelane

func recordAndSync(db: String, imu: [ImuSample], fixes: [GpsFix],
                   send: @escaping (HttpRequest) throws -> HttpResponse) throws -> SyncReport {
    let sdk = try Safelane(config: Config(vehicle: .car, platform: .ios, outboxPath: db,
                                          outboxMaxEvents: 100_000, autoTrips: false, utcOffsetMin: 0))
    try sdk.setListener(listener: AlertClosure { alert in print("alert: \(alert.kind) (\(alert.severity))") })
    _ = try sdk.startTrip(nowUnixMs: Int64(Date().timeIntervalSince1970 * 1000), nowBootS: imu[0].timestamp)
    let batcher = ImuBatcher(sdk: sdk, size: 100) // one call into Rust per 100 samples
    for s in imu { try batcher.add(timestamp: s.timestamp, ax: s.ax, ay: s.ay, az: s.az) }
    try batcher.flush()
    _ = try sdk.pushGps(fixes: fixes)
    let trip = try sdk.stopTrip()
    print("trip \(trip.tripId): \(Int(trip.distanceM)) m, events \(trip.events)")
    // In a background task: the app's HTTP stack sends, the SDK retries and marks what the server acknowledged.
    return try sdk.sync(transport: TransportClosure(send),
                        settings: defaultSyncSettings(baseUrl: "https://fleet.example.com", deviceId: "device-1", deviceSecret: "secret"))
}
// README:end
