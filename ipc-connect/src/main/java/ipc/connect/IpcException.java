package ipc.connect;

import java.io.IOException;

/**
 * An I/O-level failure of Ipc.Connect: the message names the channel and the values involved. Subclasses tell the
 * kinds apart: {@link IpcTimeoutException}, {@link IpcRemoteException}, {@link IpcConnectException} and
 * {@link IpcClosedException}.
 */
public class IpcException extends IOException {
    private static final long serialVersionUID = 1L;

    public IpcException(String message) {
        super(message);
    }

    public IpcException(String message, Throwable cause) {
        super(message, cause);
    }
}
