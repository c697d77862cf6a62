// The thin idiomatic layer over the generated bindings (io.safelane.ffi):
// lambdas for the listener and the transport, and a batcher that turns the
// sensor callback's one-sample-at-a-time stream into one FFI call per batch.
package io.safelane

import io.safelane.ffi.Alert
import io.safelane.ffi.AlertListener
import io.safelane.ffi.HttpRequest
import io.safelane.ffi.HttpResponse
import io.safelane.ffi.HttpTransport
import io.safelane.ffi.PushResult
import io.safelane.ffi.Safelane

/** An [AlertListener] from a lambda: `sdk.setListener(alertListener { show(it) })`. */
fun alertListener(block: (Alert) -> Unit): AlertListener =
    object : AlertListener {
        override fun onAlert(alert: Alert) = block(alert)
    }

/**
 * An [HttpTransport] from a lambda, e.g. over OkHttp:
 * `httpTransport { req -> client.newCall(req.toOkHttp()).execute().toSafelane() }`.
 * Throw [io.safelane.ffi.TransportException.Network] when there is no response.
 */
fun httpTransport(block: (HttpRequest) -> HttpResponse): HttpTransport =
    object : HttpTransport {
        override fun send(request: HttpRequest): HttpResponse = block(request)
    }

/**
 * Collects IMU samples from `SensorEventListener.onSensorChanged` and pushes
 * them [size] at a time through [Safelane.pushImuPacked] (7 little-endian
 * doubles per sample in one byte array: one copy across the boundary). Not
 * thread-safe: feed it from the sensor thread. Call [flush] when the trip stops.
 */
class ImuBatcher(private val sdk: Safelane, private val size: Int = 100) {
    init {
        require(size > 0) { "size must be positive" }
    }

    private val buffer = java.nio.ByteBuffer.allocate(size * 56).order(java.nio.ByteOrder.LITTLE_ENDIAN)
    private var count = 0

    /** Adds one sample: Android `event.timestamp` (ns), accelerometer and (optional) gyroscope values. */
    fun add(timestampNs: Long, ax: Float, ay: Float, az: Float, gx: Float? = null, gy: Float? = null, gz: Float? = null): PushResult? {
        buffer.putDouble(timestampNs.toDouble())
        buffer.putDouble(ax.toDouble())
        buffer.putDouble(ay.toDouble())
        buffer.putDouble(az.toDouble())
        buffer.putDouble(gx?.toDouble() ?: Double.NaN)
        buffer.putDouble(gy?.toDouble() ?: Double.NaN)
        buffer.putDouble(gz?.toDouble() ?: Double.NaN)
        count += 1
        return if (count == size) flush() else null
    }

    /** Pushes what is buffered (nothing to do when empty). */
    fun flush(): PushResult? {
        if (count == 0) return null
        val batch = buffer.array().copyOf(count * 56)
        buffer.clear()
        count = 0
        return sdk.pushImuPacked(batch)
    }
}
