// The thin idiomatic layer over the generated bindings (SafelaneFFI):
// closures for the listener and the transport, and a batcher that turns
// CoreMotion's one-sample-at-a-time handler into one FFI call per batch.
import Foundation
@_exported import SafelaneFFI

/// An `AlertListener` from a closure: `try sdk.setListener(listener: AlertClosure { show($0) })`.
public final class AlertClosure: AlertListener, @unchecked Sendable {
    private let block: (Alert) -> Void
    public init(_ block: @escaping (Alert) -> Void) { self.block = block }
    public func onAlert(alert: Alert) { block(alert) }
}

/// An `HttpTransport` from a closure (e.g. a synchronous wrapper around
/// URLSession); throw `TransportError.Network` when there is no response.
public final class TransportClosure: HttpTransport, @unchecked Sendable {
    private let block: (HttpRequest) throws -> HttpResponse
    public init(_ block: @escaping (HttpRequest) throws -> HttpResponse) { self.block = block }
    public func send(request: HttpRequest) throws -> HttpResponse { try block(request) }
}

/// Collects IMU samples from CoreMotion handlers and pushes them `size` at a
/// time through `pushImuPacked` (7 little-endian doubles per sample in one
/// `Data`). Feed it from one queue; call `flush()` when the trip stops.
public final class ImuBatcher {
    private let sdk: Safelane
    private let size: Int
    private var buffer = Data()
    private var count = 0

    public init(sdk: Safelane, size: Int = 100) {
        precondition(size > 0, "size must be positive")
        self.sdk = sdk
        self.size = size
        buffer.reserveCapacity(size * 56)
    }

    /// Adds one sample: `timestamp` (s since boot), acceleration in g as
    /// CoreMotion reports it, rotation rate in rad/s when there is a gyroscope.
    @discardableResult
    public func add(timestamp: Double, ax: Double, ay: Double, az: Double,
                    gx: Double? = nil, gy: Double? = nil, gz: Double? = nil) throws -> PushResult? {
        for v in [timestamp, ax, ay, az, gx ?? .nan, gy ?? .nan, gz ?? .nan] {
            withUnsafeBytes(of: v.bitPattern.littleEndian) { buffer.append(contentsOf: $0) }
        }
        count += 1
        return count == size ? try flush() : nil
    }

    /// Pushes what is buffered (nothing to do when empty).
    @discardableResult
    public func flush() throws -> PushResult? {
        guard count > 0 else { return nil }
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        count = 0
        return try sdk.pushImuPacked(data: batch)
    }
}
