package ipc.connect;

import java.util.Objects;

/** A body held in a byte array (a range of it). The array is not copied: do not change it until it is sent. */
public final class IpcDataBytes implements IpcData {
    private final byte[] bytes;
    private final int offset;
    private final int length;

    public IpcDataBytes(byte[] bytes) {
        this(bytes, 0, Objects.requireNonNull(bytes, "bytes").length);
    }

    public IpcDataBytes(byte[] bytes, int offset, int length) {
        Objects.requireNonNull(bytes, "bytes");
        Objects.checkFromIndexSize(offset, length, bytes.length);
        this.bytes = bytes;
        this.offset = offset;
        this.length = length;
    }

    /** The array, not a copy. */
    public byte[] array() {
        return bytes;
    }

    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    @Override
    public String toString() {
        return "IpcDataBytes[" + length + " bytes]";
    }
}
