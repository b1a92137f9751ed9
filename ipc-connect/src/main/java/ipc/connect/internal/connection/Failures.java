package ipc.connect.internal.connection;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcConnectException;
import ipc.connect.IpcException;
import ipc.connect.IpcRemoteException;
import ipc.connect.IpcTimeoutException;
import java.io.IOException;

/** Failures recorded by one thread (a poller) and thrown in another (a caller). */
final class Failures {
    private Failures() {
    }

    /**
     * A new exception of the same kind and message as {@code failure}, with the calling thread's stack and
     * {@code failure} as its cause, so that one recorded failure can be thrown to several callers.
     */
    /** {@link #inCaller(IOException)} for any failure a future recorded; a non-I/O one is wrapped. */
    static IOException inCaller(Throwable failure) {
        return inCaller(failure instanceof IOException io ? io : new IOException(failure));
    }

    static IOException inCaller(IOException failure) {
        IOException copy;
        if (failure instanceof IpcRemoteException remote) {
            copy = new IpcRemoteException(remote.channel(), remote.remoteClassName(), remote.remoteMessage());
        } else if (failure instanceof IpcClosedException) {
            copy = new IpcClosedException(failure.getMessage());
        } else if (failure instanceof IpcTimeoutException) {
            copy = new IpcTimeoutException(failure.getMessage());
        } else if (failure instanceof IpcConnectException) {
            copy = new IpcConnectException(failure.getMessage());
        } else if (failure instanceof IpcException) {
            copy = new IpcException(failure.getMessage());
        } else {
            copy = new IOException(failure.getMessage());
        }
        copy.initCause(failure);
        return copy;
    }
}
