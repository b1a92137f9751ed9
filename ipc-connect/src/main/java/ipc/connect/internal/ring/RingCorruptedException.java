package ipc.connect.internal.ring;

/**
 * A position or record read from shared memory breaks the ring's invariants: the peer is corrupt or hostile. The
 * ring is not usable any more; the owner of the connection closes it.
 */
public final class RingCorruptedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RingCorruptedException(String message) {
        super(message);
    }
}
