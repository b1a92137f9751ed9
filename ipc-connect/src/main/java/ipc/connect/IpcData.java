package ipc.connect;

import java.io.InputStream;

/**
 * A request or response body: {@link IpcDataEmpty}, {@link IpcDataBytes}, {@link IpcDataStream}, or
 * {@link IpcDataWriter} (written by the sender straight into shared memory).
 */
public sealed interface IpcData permits IpcDataEmpty, IpcDataBytes, IpcDataStream, IpcDataWriter {

    /** No body. */
    static IpcData empty() {
        return IpcDataEmpty.INSTANCE;
    }

    /** The whole array; the array is not copied and must not change until sent. */
    static IpcData of(byte[] bytes) {
        return new IpcDataBytes(bytes);
    }

    /** {@code length} bytes of {@code bytes} from {@code offset}; not copied. */
    static IpcData of(byte[] bytes, int offset, int length) {
        return new IpcDataBytes(bytes, offset, length);
    }

    /** The stream's bytes up to its end, streamed; the stream is closed once sent. */
    static IpcData of(InputStream stream) {
        return new IpcDataStream(stream);
    }

    /** The bytes {@code writer} writes, copied straight into shared memory; see {@link IpcDataWriter}. */
    static IpcData writer(IpcDataWriter.BodyWriter writer) {
        return new IpcDataWriter(writer);
    }
}
