package ipc.connect.internal.ring;

/**
 * Layout of a one-to-one ring in shared memory: a header of two positions, each alone on two cache lines (so the
 * producer's and the consumer's hot words never share a line, nor an adjacent-line prefetch pair), followed by the
 * data area whose capacity is a power of two.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Tail position (producer, release)             |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 128 bytes ...                  |
 *  +---------------------------------------------------------------+
 *  |                 Head position (consumer, release)             |  128
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 256 bytes ...                  |
 *  +---------------------------------------------------------------+
 *  |                 Data: capacity bytes of records               |  256
 *  |                              ...                             ...
 *  +---------------------------------------------------------------+
 * </pre>
 * Positions are 64-bit byte counts that only grow; a record starts at {@code position & (capacity - 1)}. A record is
 * published by its length ({@link RecordDescriptor}); the tail follows, for those that only ask whether records wait.
 * The record length at the tail's place is zero, and the producer leaves a record header's room free for that.
 */
public final class RingDescriptor {
    /** Bytes two cache lines span: the unit of padding between words of different writers. */
    public static final int PAD = 128;
    /** Offset of the tail position, written by the producer only. */
    public static final int TAIL_POSITION_OFFSET = 0;
    /** Offset of the head position, written by the consumer only. */
    public static final int HEAD_POSITION_OFFSET = PAD;
    /** Length of the header; the data area starts here. */
    public static final int HEADER_LENGTH = 2 * PAD;
    /** Smallest capacity allowed. */
    public static final int MIN_CAPACITY = 4096;
    /** Largest capacity allowed (1 GiB). */
    public static final int MAX_CAPACITY = 1 << 30;

    private RingDescriptor() {
    }

    /**
     * Checks that a data capacity is a power of two between {@value #MIN_CAPACITY} and {@value #MAX_CAPACITY}.
     *
     * @return the capacity
     */
    public static int checkCapacity(int capacity) {
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two between " + MIN_CAPACITY
                    + " and " + MAX_CAPACITY + ": " + capacity);
        }
        return capacity;
    }

    /** Bytes a ring of {@code capacity} data bytes takes, header included. */
    public static long ringLength(int capacity) {
        return HEADER_LENGTH + (long) capacity;
    }

    /**
     * Largest record payload a ring of {@code capacity} accepts: an eighth of the capacity, so a record always
     * fits once the consumer has caught up, wrap-around padding included, and several are in flight at once.
     */
    public static int maxPayloadLength(int capacity) {
        return capacity / 8 - RecordDescriptor.HEADER_LENGTH;
    }
}
