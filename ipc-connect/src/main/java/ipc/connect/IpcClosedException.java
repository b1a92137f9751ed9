package ipc.connect;

/** The peer closed the connection or died, or this side was closed, while a call was using it. */
public class IpcClosedException extends IpcException {
    private static final long serialVersionUID = 1L;

    public IpcClosedException(String message) {
        super(message);
    }
}
