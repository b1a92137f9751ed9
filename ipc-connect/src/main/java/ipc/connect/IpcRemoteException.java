package ipc.connect;

import java.util.Objects;

/**
 * The server's handler threw, or the response it returned failed while being sent. Carries the remote exception's
 * class name and message; the remote stack trace stays in the server process.
 */
public class IpcRemoteException extends IpcException {
    private static final long serialVersionUID = 1L;

    private final String channel;
    private final String remoteClassName;
    private final String remoteMessage;

    public IpcRemoteException(String channel, String remoteClassName, String remoteMessage) {
        super("channel '" + channel + "': the server's handler failed with " + remoteClassName
                + (remoteMessage == null || remoteMessage.isEmpty() ? "" : ": " + remoteMessage));
        this.channel = Objects.requireNonNull(channel, "channel");
        this.remoteClassName = Objects.requireNonNull(remoteClassName, "remoteClassName");
        this.remoteMessage = remoteMessage == null ? "" : remoteMessage;
    }

    /** The channel of the failed call. */
    public String channel() {
        return channel;
    }

    /** Fully qualified class name of the exception thrown in the server. */
    public String remoteClassName() {
        return remoteClassName;
    }

    /** Message of the exception thrown in the server; empty if it had none. */
    public String remoteMessage() {
        return remoteMessage;
    }
}
