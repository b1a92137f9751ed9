package ipc.connect.internal.connection;

import ipc.connect.IpcDataWriter;
import ipc.connect.IpcInputStream;
import ipc.connect.IpcRemoteException;
import ipc.connect.IpcTimeoutException;
import ipc.connect.internal.signal.CoreTurn;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One request of a client: sends the body, then yields the response stream once the response begins. A timeout,
 * an early close of the response or a failed request body cancels the exchange: the server is told (CANCEL frame)
 * and a late response is dropped by the reader, never delivered to another exchange.
 */
public final class ClientExchange implements ExchangeTable.Keyed, InboundStream.Owner, SelfPoll.Target,
        Outgoing {
    private static final byte[] EMPTY = new byte[0];
    /**
     * How long a caller polls for its response before it parks. A hot round trip answers within microseconds; after
     * an idle spell the server needs a few hundred to wake, and a caller still polling then saves two more wake-ups
     * (first round trip after 2 s idle: 420-1,100 µs with 50 µs here, 250-430 µs with 200 µs).
     */
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    /**
     * How long a caller polls once its request had to wake the server's dispatcher, yielding as it goes: the woken
     * dispatcher often lands on the caller's own core (the other one sleeping), and the reply then comes only
     * as fast as the caller gives the core up. Polling this long is paid only after an idle spell.
     */
    private static final long SPIN_AFTER_WAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final VarHandle DELIVERED;
    /** A release store of {@link #sent}: the volatile store of {@link #requestDone} after it is the fence for both. */
    private static final VarHandle SENT;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            DELIVERED = lookup.findVarHandle(ClientExchange.class, "delivered", boolean.class);
            SENT = lookup.findVarHandle(ClientExchange.class, "sent", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ClientConnection connection;
    private final long requestId;
    private final long timeoutNanos;
    private final long deadline;
    private final InboundStream response;
    /**
     * The request body's send window, made only for a body of more than one frame: a body of one frame is always
     * within the initial window (four ring capacities), and every small request saves the object and its atomic take.
     */
    private volatile Credit requestCredit;
    /** Set once the request's last frame is written, or sending it has ended otherwise. */
    private volatile boolean requestDone;
    /** Set once the response has ended or failed. */
    private volatile boolean responseDone;
    private final CompletableFuture<IpcInputStream> begun = new CompletableFuture<>();
    /** For {@code sendAsync}: the caller's future, and where it completes ({@code null} for {@code send}). */
    private volatile CompletableFuture<InputStream> asyncResult;
    private Executor asyncExecutor; // written before asyncResult, read after it
    /** Whether the future's completion has been handed to its executor. */
    private volatile boolean delivered;
    private volatile boolean cancelled;
    private boolean awaitingBegin; // what the caller's self-poll waits for: the response's beginning, or
    private int seenProgress; // more of it than this (see InboundStream#progress)
    /** The server asked for no more of the request body (its handler closed the request). */
    private volatile boolean stopped;
    /** The request's end frame is written: from now on only {@link #cancel()} sends the CANCEL. */
    private volatile boolean sent;

    ClientExchange(ClientConnection connection, long requestId, long timeoutNanos) {
        this.connection = connection;
        this.requestId = requestId;
        this.timeoutNanos = timeoutNanos;
        this.deadline = System.nanoTime() + timeoutNanos;
        this.response = new InboundStream(connection.window(), timeoutNanos, this);
    }

    /** When the exchange began ({@link System#nanoTime()}). */
    private long startedAt() {
        return deadline - timeoutNanos;
    }

    @Override
    public String description() {
        return connection.description() + ", request " + requestId;
    }

    // the caller has read some of the response: the reader may go on with a chunk it could not buffer
    @Override
    public void onDrained() {
        connection.wakeReader();
    }

    // the caller closed the response before its end
    @Override
    public void onEarlyClose() {
        cancel();
    }

    // the caller took all of a response record lent in place and came back (or closed the response)
    @Override
    public void endLoan(boolean readsNext) {
        connection.endLoan(readsNext);
    }

    /**
     * The caller waits for more of the response. If it reads by views, it polls the response ring itself for a while,
     * as for the response's beginning (see {@link #awaitResponse}), so the chunks are lent to it in place without a
     * hand-off from the reader thread. A caller reading into arrays leaves the copying to the reader: polling for it
     * itself, it streamed slower (2 GB, interleaved, 3.5-3.7 against 3.5-4.1 GB/s), the copy then no longer running
     * beside its own work.
     */
    @Override
    public void pollFor(int seen) {
        if (!response.readsInPlace()) {
            return;
        }
        pollUntil(false, seen, System.nanoTime(), SelfPoll.STREAM_NANOS, false);
    }

    // caller thread, while reading the response: the server may send this much more
    @Override
    public void returnCredit(int bytes) {
        try {
            connection.requests().writeWindow(requestId, bytes, timeoutNanos, this);
        } catch (IOException ignored) {
            // the connection is gone; the read that follows says so
        }
    }

    @Override
    public long requestId() {
        return requestId;
    }

    // -------------------------------------------------------------------------------------------------- request

    /** Sends {@code length} bytes as the request body: inline if one frame holds them, else from a virtual thread. */
    public void sendBytes(byte[] bytes, int offset, int length) throws IOException {
        FrameWriter writer = connection.requests();
        if (length <= writer.maxChunk()) {
            try {
                writer.writeWhole(requestId, FrameDescriptor.REQUEST_END, bytes, offset, length, timeoutNanos, this);
            } catch (IOException e) {
                cancel(); // nothing reached the server: no CANCEL is written
                throw e;
            }
            requestSent();
            return;
        }
        Credit credit = newCredit();
        pump(() -> writer.writeBody(requestId, FrameDescriptor.REQUEST, FrameDescriptor.REQUEST_END, bytes, offset,
                length, credit, timeoutNanos, this), null);
    }

    /** Streams {@code source} to its end as the request body, from a virtual thread. */
    public void sendStream(InputStream source, boolean closeSource) {
        Credit credit = newCredit();
        pump(() -> connection.requests().writeStream(requestId, FrameDescriptor.REQUEST, FrameDescriptor.REQUEST_END,
                source, credit, timeoutNanos, this), closeSource ? source : null);
    }

    /** Runs {@code body}'s writer to produce the request body, from a virtual thread. */
    public void sendWriter(IpcDataWriter.BodyWriter body) {
        Credit credit = newCredit();
        pump(() -> connection.requests().writeFrom(requestId, FrameDescriptor.REQUEST, FrameDescriptor.REQUEST_END,
                body, credit, timeoutNanos, this), null);
    }

    /**
     * The window of a body of more than one frame, made before its pump starts. A release or failure that finds no
     * credit yet has set {@code cancelled} first (volatile), which the pump sees before its first take.
     */
    private Credit newCredit() {
        Credit credit = new Credit(connection.window());
        requestCredit = credit;
        return credit;
    }

    /** Wakes the body's sender, if it waits for credit, for good. */
    private void releaseCredit() {
        Credit credit = requestCredit;
        if (credit != null) {
            credit.release();
        }
    }

    private interface Body {
        /** Returns whether the end frame was written. */
        boolean write() throws IOException;
    }

    // The body is written concurrently with the response being read, so that a handler that answers while it
    // reads (an echo) never waits on a client that waits on it. The pump ends the request on the wire either way:
    // REQUEST_END once the body is out, CANCEL if it was cancelled or its source failed.
    private void pump(Body body, InputStream toClose) {
        connection.pumpStarted();
        Thread.ofVirtual().name("ipc-connect-request-" + requestId).start(() -> {
            try {
                if (body.write()) {
                    requestSent();
                } else if (stopped && !cancelled) {
                    // the handler needs no more: end the request (the response still comes)
                    connection.requests().write(FrameDescriptor.REQUEST_END, requestId, EMPTY, 0, 0, timeoutNanos,
                            this);
                    requestSent();
                } else {
                    writeCancel();
                }
            } catch (FrameWriter.SourceException e) {
                onFailure(new IOException(description() + ": producing the request body failed: "
                        + e.getCause().getMessage(), e.getCause())); // cancels: the request is not done
                writeCancel();
            } catch (IOException e) {
                onFailure(e);
            } catch (RuntimeException | Error e) {
                // the body's source or writer threw what no caller catches: fail the call now, not at its timeout
                onFailure(new IOException(description() + ": producing the request body failed: " + e, e));
                writeCancel();
                throw e;
            } finally {
                connection.pumpEnded();
                requestDone = true;
                forgetIfDone();
                if (toClose != null) {
                    try {
                        toClose.close();
                    } catch (IOException ignored) {
                        // the body was sent (or failed) already
                    }
                }
            }
        });
    }

    private void requestSent() {
        SENT.setRelease(this, true);
        requestDone = true;
        forgetIfDone(); // the response may have ended already, read by another thread while this one wrote
        if (cancelled && !response.isEnded()) {
            writeCancelSoon(); // cancel() ran while the end frame was being written
        }
    }

    private void writeCancel() {
        try {
            connection.requests().write(FrameDescriptor.CANCEL, requestId, EMPTY, 0, 0, timeoutNanos, this);
            connection.cancelWritten();
        } catch (IOException ignored) {
            // the connection is gone: nothing left to cancel
        }
    }

    private void writeCancelSoon() {
        if (connection.requests().tryWriteEmpty(FrameDescriptor.CANCEL, requestId)) {
            connection.cancelWritten();
        } else {
            Thread.ofVirtual().name("ipc-connect-cancel-" + requestId).start(this::writeCancel);
        }
    }

    // ------------------------------------------------------------------------------------------------- response

    /**
     * Waits for the response to begin, until the exchange's timeout counted from its start.
     *
     * @throws IpcTimeoutException if it did not begin in time (the exchange is cancelled)
     * @throws IpcRemoteException if the handler failed
     */
    public IpcInputStream awaitResponse() throws IOException {
        // Busy phase: poll the response ring ourselves for a short while (from the exchange's start, a few hundred
        // nanoseconds back: one clock read fewer); a fast handler answers within it.
        long start = startedAt();
        boolean wokeServer = connection.requests().peerWokenAt() - start >= 0;
        pollUntil(true, 0, start, wokeServer ? SPIN_AFTER_WAKE_NANOS : SPIN_NANOS, wokeServer);
        try {
            return begun.get(begun.isDone() ? 0 : Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            giveUpAfterTimeout();
            throw timeoutException();
        } catch (ExecutionException e) {
            cancel();
            throw Failures.inCaller(e.getCause());
        } catch (InterruptedException e) {
            cancel();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(description() + ": interrupted while waiting for the response");
        }
    }

    /**
     * Polls the response ring on the caller's thread, for {@code spinFor} from {@code now} if it has a spinning place,
     * until the response has begun ({@code begin}) or the response stream's progress is no longer {@code seen}. The
     * reader thread stays off meanwhile; it takes over when the caller stops unless the caller has what it waited
     * for and nothing else needs reading.
     */
    private void pollUntil(boolean begin, int seen, long now, long spinFor, boolean wokeServer) {
        awaitingBegin = begin;
        seenProgress = seen;
        boolean onDoorbell = connection.startPolling();
        boolean arrived = false;
        try {
            arrived = SelfPoll.poll(this, now, spinFor, wokeServer);
        } finally {
            // the reader is needed if the caller will park, or while the request's body is still being sent (its
            // window comes back through the ring), or for a response still streaming to a caller that only awaited
            // its beginning
            boolean needReader = !arrived || !requestDone || begin && !response.isEnded();
            connection.stopPolling(needReader, onDoorbell, this);
        }
    }

    @Override
    public boolean arrived() {
        return awaitingBegin ? begun.isDone() : response.progress() != seenProgress;
    }

    @Override
    public int pollOnce() {
        return connection.pollResponses();
    }

    @Override
    public CoreTurn turn() {
        return connection.callerTurn();
    }

    /**
     * The response, asynchronously: completes through {@code executor} once the response begins, or with the
     * failure; with an {@link IpcTimeoutException} (and the exchange cancelled) if it has not
     * begun within the timeout. The connection's reader watches the deadline: no timer per request.
     */
    public CompletableFuture<InputStream> responseAsync(Executor executor) {
        CompletableFuture<InputStream> result = new CompletableFuture<>();
        asyncExecutor = executor;
        asyncResult = result;
        if (begun.isDone()) {
            deliverAsync(); // the response began before this call: the reader found no future to complete
        }
        connection.watchDeadline(deadline);
        // No caller polls for this response: the reader reads it, and may be parked after earlier callers that polled
        // for theirs. An async call right after a send used to wait for its period, up to 100 ms, unless its deadline
        // was the earliest watched: 200 such pairs took 7.5-9.4 s.
        connection.unparkReader();
        connection.pollAfterSend(startedAt()); // responses that have come meanwhile, without a hand-off to the reader
        return result;
    }

    /**
     * Reader, once some async deadline has come ({@code now}): times this exchange out if it is async, its future is
     * not complete, and its deadline has come; otherwise, if still waiting, has the reader watch its deadline.
     */
    void checkDeadline(long now) {
        CompletableFuture<InputStream> result = asyncResult;
        if (result == null || result.isDone()) {
            return; // a caller of send waits with its own deadline
        }
        if (now - deadline < 0) {
            connection.watchDeadline(deadline);
            return;
        }
        // Only if the timeout wins the race with the response: a response that has begun but whose completion the
        // executor has not run yet is closed when that completion runs.
        executeAsync(() -> {
            if (result.completeExceptionally(timeoutException())) {
                giveUpAfterTimeout();
            }
        });
    }

    /**
     * Completes the caller's future from {@code begun} through its executor, once: called by whichever comes second,
     * the response beginning or {@code responseAsync} (each publishes its part, then looks for the other's).
     */
    private void deliverAsync() {
        if (!DELIVERED.compareAndSet(this, false, true)) {
            return;
        }
        CompletableFuture<InputStream> result = asyncResult;
        executeAsync(() -> {
            IpcInputStream stream;
            try {
                stream = begun.join();
            } catch (CompletionException failed) {
                result.completeExceptionally(Failures.inCaller(failed.getCause()));
                return;
            }
            if (!result.complete(stream)) {
                ((InboundStream) stream).close(); // timed out meanwhile: nobody will read it
            }
        });
    }

    /**
     * Runs {@code task} on the caller's executor; on a virtual thread if it refuses (shut down), which would
     * otherwise leave the future incomplete for ever.
     */
    private void executeAsync(Runnable task) {
        try {
            asyncExecutor.execute(task);
        } catch (RejectedExecutionException refused) {
            Thread.ofVirtual().name("ipc-connect-completion-" + requestId).start(task);
        }
    }

    private IpcTimeoutException timeoutException() {
        return new IpcTimeoutException(description() + ": no response within "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
    }

    /** The response did not begin in time: counted, and the exchange cancelled. */
    private void giveUpAfterTimeout() {
        connection.count(ConnectionDescriptor.CLIENT_TIMEOUTS_OFFSET, 1);
        cancel();
    }

    // the request body's sender reads the response ring as a caller does for its response
    @Override
    public void pollForCredit() {
        connection.pollResponses();
    }

    /** The request body's writer stops once the exchange is cancelled or the handler wants no more of it. */
    @Override
    public boolean stopSending() {
        return cancelled || stopped;
    }

    /** Reader: the server's handler closed the request; the pump stops at its next frame. */
    void onStop() {
        stopped = true;
        releaseCredit();
    }

    /**
     * Gives up on the exchange; tells the server unless the response is complete. While the body is still being
     * sent, its pump sends the CANCEL in place of the end frame. Idempotent.
     */
    void cancel() {
        if (cancelled) {
            return;
        }
        cancelled = true;
        releaseCredit();
        connection.forget(this);
        if (sent && !response.isEnded()) {
            writeCancelSoon();
        }
    }

    // Frames keep arriving for an exchange until both directions are over: WINDOW frames for a request still being
    // sent may follow the response's end. Each side sets its flag, then checks both (volatile): whichever comes
    // second forgets the exchange.
    private void forgetIfDone() {
        if (requestDone && responseDone) {
            connection.forget(this);
        }
    }

    // ---------------------------------------------------------------------------------------------- reader side

    /**
     * A chunk of the response; the last one if {@code end}. The response begins once its bytes (and end) are in, so
     * a dependent action run by this thread finds them without waiting for the thread itself.
     *
     * @return {@code false} if the chunk was refused (offered again later)
     */
    boolean onData(MemorySegment buffer, long offset, int length, boolean end) {
        if (!begun.isDone()) {
            response.offerFirst(buffer, offset, length, end); // the caller gets the stream through begun
        } else if (!response.offer(buffer, offset, length, end)) {
            return false;
        }
        afterChunk(end);
        return true;
    }

    /**
     * A chunk of the response, lent in place if a view waits for it; the last one if {@code end}.
     *
     * @return as {@link InboundStream#lend}: if {@link InboundStream#LENT}, its ring record must stay until
     *     {@link #endLoan}
     */
    int lend(MemorySegment buffer, long offset, int length, boolean end) {
        int lending = response.lend(buffer, offset, length);
        if (lending == InboundStream.LENT) {
            afterChunk(end);
        }
        return lending;
    }

    private void afterChunk(boolean end) {
        if (end) {
            response.end();
            responseDone = true;
            forgetIfDone();
        }
        begun.complete(response);
        if (asyncResult != null && !delivered) {
            deliverAsync();
        }
    }

    /** The response stream, to flush once a pass over the ring has offered it chunks. */
    InboundStream response() {
        return response;
    }

    void onWindow(int bytes) {
        Credit credit = requestCredit;
        if (credit != null) {
            credit.grant(bytes); // none for a body of one frame: its window needs no growing
        }
    }

    void onRemoteError(String className, String message) {
        onFailure(new IpcRemoteException(connection.name(), className, message));
    }

    /** The response failed (remote error, connection lost, body source failed): stop sending the body too. */
    void onFailure(IOException cause) {
        connection.count(ConnectionDescriptor.CLIENT_FAILURES_OFFSET, 1);
        if (begun.completeExceptionally(cause)) {
            if (asyncResult != null && !delivered) {
                deliverAsync();
            }
        } else {
            response.fail(cause);
        }
        responseDone = true;
        if (!requestDone) {
            cancelled = true; // the pump stops and ends the request on the wire with CANCEL
            releaseCredit();
        }
        forgetIfDone();
    }
}
