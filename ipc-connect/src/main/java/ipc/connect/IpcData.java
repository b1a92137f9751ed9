package ipc.connect;

import java.io.InputStream;

/**
 * A request or response body: {@link IpcDataEmpty}, {@link IpcDataBytes} or {@link IpcDataStream}.
 */
public sealed interface IpcData permits IpcDataEmpty, IpcDataBytes, IpcDataStream {

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
}
