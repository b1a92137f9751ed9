package ipc.connect;

import ipc.connect.internal.connection.ClientConnection;
import ipc.connect.internal.connection.ClientExchange;
import ipc.connect.internal.memory.SharedDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client of one channel.
 *
 * <pre>{@code
 * try (IpcClient client = new IpcClient(factory, "MyChannelName");
 *      InputStream response = client.send(new IpcDataBytes("Hello".getBytes(UTF_8)), Duration.ofSeconds(2))) {
 *     ...
 * }
 * }</pre>
 *
 * <p>The client connects on the first {@code send}. Once its server is gone, every {@code send} tries to connect
 * again (so a restarted server is found by itself) and, while none listens, fails with {@link IpcClosedException}. It is thread-safe: many threads may {@code send} at once over the one connection.
 *
 * <p>{@link #close()} fails pending calls with {@link IpcClosedException}, disconnects and deletes the connection's
 * file. It is idempotent.
 */
public final class IpcClient implements AutoCloseable {
    private static final byte[] EMPTY = new byte[0];
    private static final Duration DEFAULT_ASYNC_TIMEOUT = Duration.ofSeconds(30);
    /** Completes {@link #sendAsync} futures: a virtual thread each, so callbacks may block. */
    private static final Executor COMPLETIONS = task -> Thread.ofVirtual().name("ipc-connect-completion").start(task);
    private final IpcChannelFactory factory;
    private final String channelName;
    private final ReentrantLock connectLock = new ReentrantLock();
    private volatile ClientConnection connection;
    private volatile boolean closed;
    /** Why the last connection was lost, until a new one is made (guarded by connectLock). */
    private String lost;

    /**
     * @throws IllegalArgumentException if {@code channelName} is not a valid channel name
     */
    public IpcClient(IpcChannelFactory factory, String channelName) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.channelName = SharedDirectory.checkChannelName(channelName);
    }

    public String channelName() {
        return channelName;
    }

    /**
     * Sends a request and returns its response as a stream, once the response begins. The stream may be read while
     * the response is still arriving, copied out or lent in place ({@link IpcInputStream#readView}); close it when
     * done (closing early discards the rest and leaves the client usable).
     *
     * @param timeout longest wait for the response to begin (counted from this call, connecting included), and for
     *     each later chunk of it
     * @throws IpcConnectException if no server listens on the channel and this client never had one (fast, not
     *     after the timeout)
     * @throws IpcTimeoutException if the response did not begin in time
     * @throws IpcRemoteException if the server's handler threw
     * @throws IpcClosedException if the server closed or died (also on later calls while no server is back), or this
     *     client was closed
     * @throws IpcException for other failures, such as settings that differ from the server's
     */
    public IpcInputStream send(IpcData data, Duration timeout) throws IOException {
        return start(data, timeout).awaitResponse();
    }

    /**
     * Sends a request without waiting: many may be in flight at once on one client (pipelining), and their
     * responses are matched to them whatever order the server finishes them in. Connecting, if needed, happens in
     * this call.
     *
     * <p>The future completes with the response stream (an {@link IpcInputStream}) once the response begins, or
     * exceptionally with the {@link IpcException} {@link #send(IpcData, Duration)} would throw (an
     * {@link IpcTimeoutException} after {@code timeout}). It completes on a virtual thread of this client, never on
     * its internal reader, so dependent actions may block or send again.
     *
     * @throws IpcException if the request could not be handed over: connecting failed (as in
     *     {@link #send(IpcData, Duration)}), or the connection refused a body small enough to be written at once
     */
    public CompletableFuture<InputStream> sendAsync(IpcData data, Duration timeout) throws IOException {
        return start(data, timeout).responseAsync(COMPLETIONS);
    }

    /**
     * {@link #sendAsync(IpcData, Duration)}, completing the future on {@code completions} instead of a new virtual
     * thread. {@code Runnable::run} completes it on the thread that delivers the response (the client's reader, a
     * caller of {@code send} or {@code sendAsync}, which read the responses that have come, or on a timeout the
     * reader): the fastest way, for dependent actions that are short and never block, since the responses that
     * follow wait for them. Such an action may read what has arrived: a response of up to one frame (an eighth of the
     * ring capacity) has arrived whole, a longer one only in part, and waiting there for the rest would wait forever.
     * It may call {@code sendAsync} again, or close the client (the close then returns at once, and finishes once the
     * reader is out of the action), but not {@code send}: that would wait, until its timeout, for a response that
     * only its own thread can read. If {@code completions} refuses a task (it was shut down), that future
     * completes on a virtual thread instead.
     */
    public CompletableFuture<InputStream> sendAsync(IpcData data, Duration timeout, Executor completions)
            throws IOException {
        Objects.requireNonNull(completions, "completions");
        return start(data, timeout).responseAsync(completions);
    }

    /** {@link #sendAsync(IpcData, Duration)} with a 30-second timeout. */
    public CompletableFuture<InputStream> sendAsync(IpcData data) throws IOException {
        return sendAsync(data, DEFAULT_ASYNC_TIMEOUT);
    }

    /** Sends the stream's bytes up to its end as the request; see {@link #send(IpcData, Duration)}. */
    public IpcInputStream send(InputStream request, Duration timeout) throws IOException {
        return send(new IpcDataStream(request), timeout);
    }

    /** Sends {@code request} and returns the whole response; see {@link #send(IpcData, Duration)}. */
    public byte[] sendAndReceive(byte[] request, Duration timeout) throws IOException {
        try (InputStream response = send(new IpcDataBytes(request), timeout)) {
            return response.readAllBytes();
        }
    }

    /** Connects if needed, registers an exchange and starts sending its body (inline, or from a virtual thread). */
    private ClientExchange start(IpcData data, Duration timeout) throws IOException {
        Objects.requireNonNull(data, "data");
        long timeoutNanos = checkTimeout(timeout);
        ClientExchange exchange = connection(timeoutNanos).begin(timeoutNanos);
        switch (data) {
            case IpcDataEmpty ignored -> exchange.sendBytes(EMPTY, 0, 0);
            case IpcDataBytes bytes -> exchange.sendBytes(bytes.array(), bytes.offset(), bytes.length());
            case IpcDataStream stream -> exchange.sendStream(stream.stream(), stream.closeStream());
            case IpcDataWriter writer -> exchange.sendWriter(writer.writer());
        }
        return exchange;
    }

    private static long checkTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        return IpcChannelFactory.nanosUpToAYear(timeout);
    }

    private ClientConnection connection(long timeoutNanos) throws IOException {
        while (true) {
            ClientConnection current = connection;
            if (current != null) {
                if (current.isUsable()) {
                    return current;
                }
                closeLost(current);
                continue;
            }
            connectLock.lock();
            try {
                if (closed) {
                    throw new IpcClosedException("channel '" + channelName + "': the client is closed");
                }
                if (connection != null) {
                    continue; // made by another thread meanwhile (or already lost): look again
                }
                try {
                    current = ClientConnection.connect(channelName, factory.settings(), timeoutNanos);
                } catch (IpcConnectException e) {
                    if (lost != null) {
                        // this client had a server: report that it is gone, and why reconnecting failed
                        IpcClosedException closed = new IpcClosedException(lost + "; reconnecting failed: "
                                + e.getMessage());
                        closed.initCause(e);
                        throw closed;
                    }
                    throw e;
                }
                connection = current;
                lost = null;
                return current;
            } finally {
                connectLock.unlock();
            }
        }
    }

    /**
     * Takes a lost connection out of use, keeping why it was lost, and closes it (releasing its file before a new one
     * is made) outside the lock: the close waits for the connection's reader, which may be running a future's action
     * that calls this client and waits for the lock.
     */
    private void closeLost(ClientConnection lostConnection) {
        connectLock.lock();
        try {
            if (connection == lostConnection) {
                lost = lostConnection.lossDescription();
                connection = null;
            }
        } finally {
            connectLock.unlock();
        }
        lostConnection.close(); // idempotent: threads meeting the same lost connection each wait for its reader
    }

    @Override
    public void close() {
        ClientConnection current;
        connectLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            current = connection;
            connection = null;
        } finally {
            connectLock.unlock();
        }
        if (current != null) {
            // outside the lock: the connection's close waits for its reader, which may be running a future's action
            // that closes this client too
            current.close();
        }
    }

    /** For tests: the exchanges of the current connection that are not over (0 without a connection). */
    int pendingExchanges() {
        ClientConnection current = connection;
        return current == null ? 0 : current.pendingExchanges();
    }

    @Override
    public String toString() {
        return "IpcClient[channel=" + channelName + ", " + factory + "]";
    }
}
