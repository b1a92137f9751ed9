package ipc.connect.internal.signal;

/**
 * Layout of a signal: three 32-bit words alone on two cache lines.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Sequence (futex word; +1 by each wake)         |  0
 *  +---------------------------------------------------------------+
 *  |                 Waiters (announced sleepers)                   |  4
 *  +---------------------------------------------------------------+
 *  |                 Pollers (threads of the sleepers' process      |  8
 *  |                 polling in their stead, without sleeping)      |
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
    /**
     * Offset of the count of threads that poll for the sleepers while these sleep: a writer need not wake them
     * meanwhile (see {@link Signal#startPolling()}).
     */
    public static final int POLLERS_OFFSET = 8;
    /** Bytes a signal takes. */
    public static final int LENGTH = 128;

    private SignalDescriptor() {
    }
}
