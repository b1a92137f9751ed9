package ipc.connect.internal.connection;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcDataWriter;
import ipc.connect.internal.signal.CoreTurn;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.BooleanSupplier;

/**
 * One request on the server: its body as an {@link InputStream} while it arrives, and the means to send the
 * response. Used by one handler thread; {@link #cancel()} and {@link #abort} come from the dispatcher.
 */
public final class ServerExchange implements ExchangeTable.Keyed, InboundStream.Owner, SelfPoll.Target,
        Outgoing {
    private static final byte[] EMPTY = new byte[0];

    private final ServerConnection connection;
    private final long requestId;
    private final InboundStream request;
    /**
     * The response body's send window, made only for a response of more than one frame (or a streamed one): a
     * response of one frame is always within the client's initial window, and every small response saves the object
     * and its volatile store.
     */
    private volatile Credit responseCredit;
    private volatile boolean cancelled;
    private volatile boolean requestEnded;
    private volatile boolean responded;
    /** The response has begun: the request's chunks are no longer lent in place (see {@link #beginResponse}). */
    private volatile boolean responding;
    private long requestBytes; // by the thread reading the ring (see ServerConnection#readLock)
    private boolean refused; // as requestBytes
    private int seenProgress; // the handler's self-poll waits for its request's progress past this

    ServerExchange(ServerConnection connection, long requestId) {
        this.connection = connection;
        this.requestId = requestId;
        this.request = new InboundStream(connection.channel().settings().window(), 0, this);
    }

    // the handler has read some of the request: the dispatcher may go on with a chunk it could not buffer
    @Override
    public void onDrained() {
        connection.channel().doorbell().signal();
    }

    // handler thread, while reading the request: the client may send this much more
    @Override
    public void returnCredit(int bytes) {
        try {
            connection.responses().writeWindow(requestId, bytes, 0, this);
        } catch (IOException ignored) {
            // the connection is gone; the read that follows says so
        }
    }

    // handler thread, closing the request before its end: the client need not send the rest
    @Override
    public void onEarlyClose() {
        if (requestEnded || cancelled) {
            return;
        }
        try {
            connection.responses().write(FrameDescriptor.STOP, requestId, EMPTY, 0, 0, 0, this);
        } catch (IOException ignored) {
            // the connection is gone
        }
    }

    /**
     * Dispatcher: the client has room for more of the response. A response of one frame makes no window and takes
     * nothing from one (nor does its client give any back, as it ended with that frame): without a window, nothing is
     * granted.
     */
    void onWindow(int bytes) {
        Credit credit = responseCredit;
        if (credit != null) {
            credit.grant(bytes);
        }
    }

    /**
     * The window of a response of more than one frame, made before its first frame. A cancel or abort that finds no
     * window yet has set {@code cancelled} first (volatile), which the writer sees before its first take.
     */
    private Credit newResponseCredit() {
        Credit credit = new Credit(connection.channel().settings().window());
        responseCredit = credit;
        return credit;
    }

    /** Wakes the response's writer, if it waits for window, for good. */
    private void releaseResponseCredit() {
        Credit credit = responseCredit;
        if (credit != null) {
            credit.release();
        }
    }

    @Override
    public long requestId() {
        return requestId;
    }

    /** The request body, readable while it arrives (the dispatcher fills it). */
    public InboundStream request() {
        return request;
    }

    /**
     * Whether the client gave up on this request (timeout, closed response, closed client): the response's writer
     * stops.
     */
    @Override
    public boolean stopSending() {
        return cancelled;
    }

    @Override
    public String description() {
        return connection.description() + ", request " + requestId;
    }

    /**
     * The handler's thread, done with this exchange: polls for the next request of the same connection for up to
     * {@code nanos} ({@code paceNanos} while the client calls at a pace under that), then dozes for it up to
     * {@code dozeNanos} (0: not at all), to handle it itself, unless (or until) {@code stepAside} (see
     * {@link ServerConnection#pollNext}).
     *
     * @return that request, or {@code null} if none came (or the thread stepped aside)
     */
    public ServerExchange pollNextRequest(long nanos, long paceNanos, long dozeNanos, BooleanSupplier stepAside) {
        return connection.pollNext(nanos, paceNanos, dozeNanos, stepAside, this);
    }

    /**
     * A handler's thread is about to start in this process: the handler's thread that dozes for its connection's next
     * request, if one does ({@link #pollNextRequest}), gives its carrier back, and no thread starts a doze after a
     * poll during which this came. Call before starting a thread that needs a carrier.
     */
    public static void handlerStarting() {
        ServerConnection.handlerStarting();
    }

    /**
     * The handler's thread is done with this exchange and polls for no next one (or failed): it no longer counts as
     * polling its connection (see {@link ServerConnection#pollNext}). Idempotent.
     */
    public void endPolling() {
        connection.releaseCarried(this);
    }

    // a response writer about to park for room: the client's signal that it has made some must wake the dispatcher
    @Override
    public void beforeWaitingForRoom() {
        connection.releaseCarried(this);
    }

    // the response's sender reads its own frames of the request ring (its WINDOW frames among them), as the handler
    // does for more of its request
    @Override
    public void pollForCredit() {
        connection.pollOwn(this);
    }

    /** Whether the whole request body has arrived. */
    public boolean isRequestComplete() {
        return requestEnded;
    }

    void endRequest() {
        requestEnded = true;
        request.end();
        if (responded) {
            connection.forget(this);
        }
    }

    /**
     * Ring reader (the dispatcher, or this handler polling): whether a chunk keeps the request within {@code limit}
     * bytes (it is {@linkplain #countRequestBytes counted} once taken, not each time it is looked at). Past the limit
     * the request is refused once: the handler's stream fails, the client gets an error response, and later chunks
     * are dropped.
     */
    boolean admits(int chunk, long limit) {
        if (refused) {
            return false;
        }
        if (requestBytes + chunk <= limit) {
            return true;
        }
        refused = true;
        ipc.connect.IpcException tooLarge = new ipc.connect.IpcException(description()
                + ": request refused: larger than the server's limit of " + limit + " bytes");
        request.fail(tooLarge);
        // the dispatcher never blocks on a full response ring: the error goes out from its own thread
        cancelled = true; // whatever the handler answers from now on is not sent
        releaseResponseCredit();
        Thread.ofVirtual().name("ipc-connect-refuse-" + requestId).start(() -> {
            try {
                writeError(tooLarge);
            } catch (IOException ignored) {
                // the connection is gone
            }
        });
        return false;
    }

    /** Ring reader: a chunk of the request was taken (offered or lent to the handler). */
    void countRequestBytes(int chunk) {
        requestBytes += chunk;
    }

    // the handler took all of a request record lent in place and came back (or closed the request)
    @Override
    public void endLoan(boolean readsNext) {
        connection.endLoan(readsNext);
    }

    /**
     * The handler waits for more of the request. If it reads by views, it reads its request's frames from the ring
     * itself for a while (see {@link ServerConnection#pollOwn}), as a client's caller does for its response, and if
     * it is to wait longer, tells the dispatcher to look again: the dispatcher may have left the next chunk in the ring
     * for this very read and gone to sleep. A handler reading into arrays leaves the copying to the dispatcher (2 GB
     * uploads, interleaved: 2.5-3.6 GB/s polling, 3.0-4.2 not; with the record lent to a view handed over by the
     * dispatcher instead of polled for, 2.5-3.4, against 5.0-5.8 polled for).
     */
    @Override
    public void pollFor(int seen) {
        if (!request.readsInPlace()) {
            return;
        }
        seenProgress = seen;
        connection.startPolling();
        boolean arrived = false;
        try {
            arrived = SelfPoll.poll(this, System.nanoTime(), SelfPoll.STREAM_NANOS, false);
        } finally {
            connection.stopPolling(this, !arrived);
        }
    }

    @Override
    public boolean arrived() {
        return request.progress() != seenProgress;
    }

    @Override
    public int pollOnce() {
        return connection.pollOwn(this);
    }

    @Override
    public CoreTurn turn() {
        return connection.handlerTurn();
    }

    void cancel() {
        cancelled = true;
        releaseResponseCredit();
        request.fail(new IpcClosedException(description() + ": cancelled by the client"));
    }

    void abort(IpcClosedException cause) {
        cancelled = true;
        releaseResponseCredit();
        request.fail(cause);
    }

    /** Whether the response has begun: see {@link #beginResponse}. */
    boolean isResponding() {
        return responding;
    }

    /**
     * The handler has returned and its response begins. Its writes may wait for the window the client gives back
     * through the request ring, so from now on no chunk of the request is lent to a view, or left in the ring for one
     * (a response writer may read on by views: from the receive buffer), and a chunk lent already goes back now.
     */
    private void beginResponse() {
        responding = true;
        request.takeBackLoan();
    }

    /** Sends {@code length} bytes of {@code bytes} as the whole response. */
    public void respond(byte[] bytes, int offset, int length) throws IOException {
        beginResponse();
        FrameWriter writer = connection.responses();
        if (length <= writer.maxChunk()) {
            writer.writeWhole(requestId, FrameDescriptor.RESPONSE_END, bytes, offset, length, 0, this);
        } else {
            connection.releaseCarried(this); // it may wait for the client's window
            writer.writeBody(requestId, FrameDescriptor.RESPONSE, FrameDescriptor.RESPONSE_END, bytes, offset, length,
                    newResponseCredit(), 0, this);
        }
    }

    /** Sends an empty response. */
    public void respondEmpty() throws IOException {
        respond(EMPTY, 0, 0);
    }

    /**
     * Streams {@code source} to its end as the response. If reading it fails, the client's read fails with an
     * {@code IpcRemoteException} carrying that failure, and this method returns normally.
     *
     * @throws IOException if the connection failed
     */
    public void respond(InputStream source) throws IOException {
        beginResponse();
        connection.releaseCarried(this); // the source may block, or be slow to close once the response has ended
        try {
            connection.responses().writeStream(requestId, FrameDescriptor.RESPONSE, FrameDescriptor.RESPONSE_END,
                    source, newResponseCredit(), 0, this);
        } catch (FrameWriter.SourceException e) {
            respondError(e.getCause());
        }
    }

    /**
     * Runs {@code body}'s writer to produce the response. If it throws, the client's read fails with an
     * {@code IpcRemoteException} carrying that failure, and this method returns normally.
     *
     * @throws IOException if the connection failed
     */
    public void respond(IpcDataWriter.BodyWriter body) throws IOException {
        beginResponse();
        connection.releaseCarried(this); // the writer may wait for the client's window
        try {
            connection.responses().writeFrom(requestId, FrameDescriptor.RESPONSE, FrameDescriptor.RESPONSE_END,
                    body, newResponseCredit(), 0, this);
        } catch (FrameWriter.SourceException e) {
            respondError(e.getCause());
        }
    }

    /** Sends an error in place of (or in the middle of) the response. */
    public void respondError(Throwable failure) throws IOException {
        if (!cancelled) {
            writeError(failure);
        }
    }

    private void writeError(Throwable failure) throws IOException {
        connection.count(ConnectionDescriptor.SERVER_ERRORS_OFFSET, 1);
        byte[] chunk = FrameDescriptor.encodeError(failure.getClass().getName(), failure.getMessage(),
                connection.responses().maxChunk());
        connection.responses().write(FrameDescriptor.ERROR, requestId, chunk, 0, chunk.length, 0, this);
    }

    /** The handler is done: the rest of the request is discarded and the exchange forgotten. Idempotent. */
    public void finish() {
        request.close();
        responded = true;
        // Not before the client has ended the request: its later frames must find this exchange, or one would start
        // a new request with its id (a refused request is answered before the client stops sending: a handler run for
        // its empty end frame once answered the client before the refusal did). A cancelled or aborted exchange has
        // left the table already.
        if (requestEnded) {
            connection.forget(this);
        }
    }
}
