package ipc.connect;

import java.io.InputStream;

/**
 * Handles one request on the server. Runs on its own (virtual) thread; several run at once.
 */
@FunctionalInterface
public interface IpcServerRequestHandler {
    /**
     * Handles a request whose body arrives through {@code request} while the client is still sending it. The
     * handler may read all of it, part of it, or none: what it leaves is discarded. It may also return the request
     * stream itself inside an {@link IpcDataStream} (an echo), which is then read as the response is sent. The
     * stream is an {@link IpcInputStream}: cast it to read the body in place with {@link IpcInputStream#readView}.
     *
     * @return the response body; never {@code null}
     * @throws Exception anything: the client's call fails with an {@link IpcRemoteException} carrying its class name
     *     and message
     */
    IpcData handle(InputStream request) throws Exception;
}
