package ipc.connect.internal.ring;

import java.lang.foreign.MemorySegment;

/** Receives records read from a {@link OneToOneRing}. */
@FunctionalInterface
public interface RecordHandler {
    /**
     * Handles one record. The payload is valid only during the call.
     *
     * @param type the record type (positive)
     * @param buffer the ring's segment
     * @param offset offset of the payload in {@code buffer}
     * @param length payload length in bytes
     * @return {@code true} if the record is consumed; {@code false} leaves it (and every later one) in the ring for
     *     the next read
     */
    boolean onRecord(int type, MemorySegment buffer, long offset, int length);
}
