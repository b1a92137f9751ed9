package ipc.connect;

/** No server is listening on the channel, or it refused the connection. Thrown fast, not after a timeout. */
public class IpcConnectException extends IpcException {
    private static final long serialVersionUID = 1L;

    public IpcConnectException(String message) {
        super(message);
    }

    public IpcConnectException(String message, Throwable cause) {
        super(message, cause);
    }
}
