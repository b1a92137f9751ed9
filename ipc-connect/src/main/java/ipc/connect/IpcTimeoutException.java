package ipc.connect;

/**
 * A wait exceeded its timeout: no response began in time, or the next chunk of a response did not arrive in time.
 * The request is cancelled; a late response to it is discarded and never seen by a later call.
 */
public class IpcTimeoutException extends IpcException {
    private static final long serialVersionUID = 1L;

    public IpcTimeoutException(String message) {
        super(message);
    }
}
