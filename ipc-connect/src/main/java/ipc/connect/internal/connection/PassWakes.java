package ipc.connect.internal.connection;

/**
 * The wake-ups a poller owes for one pass over a ring: the stream it last offered chunks to is flushed (its waiting
 * read woken, see {@link InboundStream#flush}) when the pass offers to another stream or ends. A read lending a large
 * array then wakes once for the chunks of a pass rather than once per chunk.
 *
 * <p>Thread-safety: used by the thread that holds the ring's read side.
 */
final class PassWakes {
    private InboundStream owed;

    /** {@code stream} was offered a chunk in this pass. */
    void offered(InboundStream stream) {
        if (owed != stream) {
            flush();
            owed = stream;
        }
    }

    /** The pass ended: wakes the read owed a wake-up, if any. */
    void flush() {
        if (owed != null) {
            InboundStream stream = owed;
            owed = null;
            stream.flush();
        }
    }
}
