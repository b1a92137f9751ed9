package ipc.connect.internal.signal;

/**
 * Layout of a signal: two 32-bit words alone on two cache lines.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Sequence (futex word; +1 by each wake)         |  0
 *  +---------------------------------------------------------------+
 *  |                 Waiters (announced sleepers)                   |  4
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 128 bytes ...                   |
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class SignalDescriptor {
    /** Offset of the sequence word the sleepers wait on. */
    public static final int SEQUENCE_OFFSET = 0;
    /** Offset of the count of announced sleepers. */
    public static final int WAITERS_OFFSET = 4;
    /** Bytes a signal takes. */
    public static final int LENGTH = 128;

    private SignalDescriptor() {
    }
}
