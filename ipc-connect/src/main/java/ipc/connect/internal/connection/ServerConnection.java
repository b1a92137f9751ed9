package ipc.connect.internal.connection;

import static ipc.connect.internal.memory.SharedAccess.getIntAcquire;
import static ipc.connect.internal.memory.SharedAccess.getIntPlain;
import static ipc.connect.internal.memory.SharedAccess.getLongAcquire;
import static ipc.connect.internal.memory.SharedAccess.getLongPlain;
import static ipc.connect.internal.memory.SharedAccess.setIntRelease;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcException;
import ipc.connect.internal.memory.MappedFile;
import ipc.connect.internal.memory.SharedAccess;
import ipc.connect.internal.memory.SharedDirectory;
import ipc.connect.internal.ring.OneToOneRing;
import ipc.connect.internal.ring.RecordHandler;
import ipc.connect.internal.ring.RingCorruptedException;
import ipc.connect.internal.signal.CoreTurn;
import ipc.connect.internal.signal.Signal;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The server's end of one client connection. The dispatcher thread polls it, and a handler waiting for more of its
 * request reads that request's frames itself ({@link #pollOwn}); handler threads write responses through its
 * {@link FrameWriter}.
 */
final class ServerConnection {
    private static final int READ_LIMIT = 64;
    /**
     * The connection whose handler's thread dozes for its next request ({@link #doze}), if one does: one at a time in
     * the process, as the thread keeps its carrier meanwhile.
     */
    private static final AtomicReference<ServerConnection> DOZING = new AtomicReference<>();
    /**
     * Handlers' threads started in the process ({@link #handlerStarting}): a thread dozes only after a poll during
     * which none started. A busy server starts them all the time, and each doze there kept a carrier from them until
     * its call-off's wake: with 64 connections calling in loops (bench --connections), p99 690-1,247 µs in eight runs
     * against 391-734 in eight without dozes.
     */
    private static final AtomicLong HANDLERS_STARTED = new AtomicLong();
    /**
     * Whether a handler's thread may doze at all: with the kernel's wait (the fallback's is a park, which would not
     * be woken by the client), and with more than one carrier thread for virtual threads (the JDK's default is one
     * per core; {@code jdk.virtualThreadScheduler.parallelism} sets it): a doze keeps one.
     */
    private static final boolean MAY_DOZE = Signal.kernelWait() && virtualThreadCarriers() > 1;

    private final ServerChannel channel;
    private final int slot;
    private final long connectionId;
    private final MappedFile file;
    private final MemorySegment segment;
    private final OneToOneRing requests;
    private final FrameWriter responses;
    private final Signal clientDoorbell;
    /** The channel's doorbell, counting this connection's polling handlers: see {@link #startPolling()}. */
    private final Signal handlerPolls;
    /** Where a handler's thread that polls for the next request dozes ({@link #doze}); the client rings it. */
    private final Signal handlerDoorbell;
    /** The dozing thread is to give its carrier back ({@link #handlerStarting}). */
    private volatile boolean dozeCalledOff;
    /** The client process, asked every liveness period whether it still runs. */
    private final ProcessIdentity.Watch client;
    private final ExchangeTable<ServerExchange> exchanges = new ExchangeTable<>();
    /** {@link #onFrame} as the ring's handler, made once: the dispatcher polls many times a microsecond. */
    private final RecordHandler frameHandler = this::onFrame;
    private final PassWakes passWakes = new PassWakes(); // guarded by readLock
    private final String description;
    private volatile boolean closed;
    /**
     * Held by whichever thread reads the request ring: the dispatcher, or a handler reading its own request's frames
     * (see {@link #pollOwn}). The fields below are guarded by it, as are the exchanges' request sizes.
     */
    private final ReentrantLock readLock = new ReentrantLock();
    /**
     * The last read left a frame in the ring, for want of room in its handler's buffer or for its handler's next
     * view; or a record is lent (read by the dispatcher after its poll).
     */
    private boolean blocked;
    /** {@link #onOwnFrame} as the ring's handler, made once. */
    private final RecordHandler ownFrameHandler = this::onOwnFrame;
    private final RecordHandler ownFramePeek = this::peekOwnFrame;
    /** The exchange whose handler reads the ring now, if a handler does. */
    private ServerExchange reading;
    /** That handler's read stopped at a frame not of its request: the dispatcher's to read. */
    private boolean foreignAhead;
    /**
     * The exchange whose request's view holds a record of the request ring in place, if any. Its handler counts as
     * polling the connection ({@link #startPolling()}) until it gives the record back ({@link #endLoan}): nobody reads
     * the ring before that, so the client's writes meanwhile need not wake the dispatcher. A record is lent only while
     * its exchange is the connection's only one, and the client wakes the dispatcher anyway for what it writes while
     * another is pending ({@code ClientConnection.otherExchangesPending}). In a zero-copy upload the dispatcher was
     * woken 5,000 times a second for nothing, at a system call of the client's writer each time.
     */
    private ServerExchange lentTo;
    /** The handler thread that polls for this connection's next request ({@link #pollNext}), if one does. */
    private final AtomicReference<Thread> nextPoller = new AtomicReference<>();
    private final NextRequest nextRequest = new NextRequest(); // that thread's poll: one at a time
    /**
     * A poll for the next request ran out without one ({@link #pollNext}) since its start at {@link #missedPollStart}
     * ({@code nanoTime}): the reader of the connection's next request measures how long after that start it came.
     */
    private volatile boolean missedPoll;
    private long missedPollStart; // published by missedPoll
    /**
     * How long after the start of the last poll that ran out the next request came ({@code nanoTime} difference;
     * {@link Long#MAX_VALUE}: none measured yet), for the next poll's length ({@link #pollNext}).
     */
    private volatile long gapAfterMissedPoll = Long.MAX_VALUE;
    /** The exchange whose handler's thread counts as polling while it handles it ({@link #pollNext}), if any. */
    private final AtomicReference<ServerExchange> carried = new AtomicReference<>();
    /** The turn on their cores of the handler threads that poll this connection ({@link SelfPoll}). */
    private final CoreTurn handlerTurn = new CoreTurn();
    /** The reader is that thread: the first request it meets is its own to handle, not dispatched. */
    private boolean adopting;
    private ServerExchange adopted; // that request; read by that thread once its read is over
    private volatile String closeReason;

    private ServerConnection(ServerChannel channel, int slot, long connectionId, MappedFile file) {
        this.channel = channel;
        this.slot = slot;
        this.connectionId = connectionId;
        this.file = file;
        this.segment = file.segment();
        int capacity = channel.settings().ringCapacity();
        this.requests = new OneToOneRing(segment, ConnectionDescriptor.requestRingOffset(), capacity);
        this.clientDoorbell = new Signal(segment, ConnectionDescriptor.DOORBELL_OFFSET);
        this.handlerPolls = new Signal(channel.header(), ChannelDescriptor.DOORBELL_OFFSET, segment,
                ConnectionDescriptor.SERVER_POLLERS_OFFSET);
        this.handlerDoorbell = new Signal(segment, ConnectionDescriptor.HANDLER_DOORBELL_OFFSET);
        this.responses = new FrameWriter(
                new OneToOneRing(segment, ConnectionDescriptor.responseRingOffset(capacity), capacity), clientDoorbell,
                ConnectionDescriptor.SERVER_RESPONSE_BYTES_OFFSET);
        this.client = new ProcessIdentity(getLongPlain(segment, ConnectionDescriptor.CLIENT_PID_OFFSET),
                getLongPlain(segment, ConnectionDescriptor.CLIENT_START_TIME_OFFSET)).watch();
        this.description = "channel '" + channel.name() + "', client pid " + client.identity().pid();
    }

    /** Maps and checks the connection file of a pending slot and accepts it. */
    static ServerConnection accept(ServerChannel channel, int slot, long connectionId) throws IOException {
        Path path = channel.directory().connectionFile(channel.name(), connectionId);
        MappedFile file = MappedFile.open(path);
        try {
            MemorySegment segment = file.segment();
            if (file.size() < ConnectionDescriptor.HEADER_LENGTH) {
                throw new IpcException("channel '" + channel.name() + "': connection file " + path + " is "
                        + file.size() + " bytes, shorter than its header");
            }
            int version = getIntAcquire(segment, ConnectionDescriptor.LAYOUT_VERSION_OFFSET);
            ConnectionDescriptor.checkHeader(channel.name(), path, file.size(),
                    getLongPlain(segment, ConnectionDescriptor.MAGIC_OFFSET), version,
                    getIntPlain(segment, ConnectionDescriptor.HEADER_LENGTH_OFFSET),
                    getIntPlain(segment, ConnectionDescriptor.RING_CAPACITY_OFFSET),
                    channel.settings().ringCapacity());
            int claimedSlot = getIntPlain(segment, ConnectionDescriptor.SLOT_OFFSET);
            if (claimedSlot != slot) {
                throw new IpcException("channel '" + channel.name() + "': connection file " + path + " names slot "
                        + claimedSlot + " but was announced in slot " + slot);
            }
            ServerConnection connection = new ServerConnection(channel, slot, connectionId, file);
            setIntRelease(segment, ConnectionDescriptor.SERVER_STATE_OFFSET, ConnectionDescriptor.SERVER_ACCEPTED);
            connection.clientDoorbell.wakeAll();
            ServerChannel.LOG.log(Level.DEBUG, () -> connection.description + ": connected");
            return connection;
        } catch (IOException | RuntimeException e) {
            try {
                setIntRelease(file.segment(), ConnectionDescriptor.SERVER_STATE_OFFSET,
                        ConnectionDescriptor.SERVER_REFUSED);
                new Signal(file.segment(), ConnectionDescriptor.DOORBELL_OFFSET).wakeAll();
            } catch (RuntimeException ignored) {
                // too small to hold a header: the client finds out by its timeout
            }
            file.close();
            throw e;
        }
    }

    String description() {
        return description;
    }

    /** The turn on their cores of the handler threads that poll this connection. */
    CoreTurn handlerTurn() {
        return handlerTurn;
    }

    FrameWriter responses() {
        return responses;
    }

    boolean isClosed() {
        return closed;
    }

    ServerChannel channel() {
        return channel;
    }

    /** Dispatcher: reads request frames, wakes writers, notices a closing client. Returns the work done. */
    int poll() {
        if (closed) {
            return 0;
        }
        int work = 0;
        try {
            if (requests.mayHaveRecords()) {
                work = read();
            } else {
                blocked = false; // nothing left in the ring, nothing lent: the lock is left alone on idle passes
            }
        } catch (RingCorruptedException | ProtocolException e) {
            close("protocol error: " + e.getMessage(), Level.WARNING);
            return 1;
        } catch (RuntimeException e) {
            // whatever a hostile or broken client wrote, it costs that client its connection, never the channel
            close("unexpected failure reading its requests: " + e, Level.WARNING);
            return 1;
        }
        if (work > 0) {
            clientDoorbell.signal(); // the client's writer may wait for room
        }
        responses.wakeIfRoom();
        String corruption = responses.corruption();
        if (corruption != null) {
            close("protocol error in its response ring: " + corruption, Level.WARNING);
            return work + 1;
        }
        if (getIntAcquire(segment, ConnectionDescriptor.CLIENT_STATE_OFFSET) == ConnectionDescriptor.CLIENT_CLOSED) {
            close("the client closed the connection", Level.DEBUG);
            return work + 1;
        }
        return work;
    }

    /** Dispatcher: reads the request frames there are, unless a handler reads its own now. */
    private int read() {
        if (!readLock.tryLock()) {
            return 0; // a handler reads its request's frames itself
        }
        int work;
        try {
            blocked = false;
            try {
                work = requests.read(frameHandler, READ_LIMIT);
            } finally {
                passWakes.flush();
                blocked |= lentTo != null; // its handler needs the core, and gives the record back
            }
        } finally {
            readLock.unlock();
        }
        return work;
    }

    /**
     * Dispatcher: whether the last poll stopped at a frame its handler had no room for. The handler rings the doorbell
     * once it has made room.
     */
    boolean isBlocked() {
        return blocked;
    }

    /**
     * Handler of {@code own}, waiting for more of its request or for its response's window: reads the request ring
     * itself, as far as the frames are its own exchange's (its request's chunks, its response's WINDOW frames; the
     * dispatcher reads the others), unless another thread reads it now. Its chunks then come straight into the
     * handler's array, or lent to its view, and its window into its credit, with no hand-off from the dispatcher.
     *
     * @return the frames consumed
     */
    int pollOwn(ServerExchange own) {
        return readAsHandler(own);
    }

    /**
     * A handler's thread reads the request ring, unless another thread reads it now: the frames of {@code own}'s
     * request as far as they go ({@link #pollOwn}), or, if {@code own} is null, every frame, the first new request
     * taken for this thread rather than dispatched ({@link #pollNext}). It sees, as the dispatcher's poll does, to a
     * response writer waiting for room: the client's signals skip the dispatcher while handlers poll.
     *
     * @return the frames consumed
     */
    private int readAsHandler(ServerExchange own) {
        responses.wakeIfRoom();
        if (closed || !requests.mayHaveRecords() || readLock.isHeldByCurrentThread() || !readLock.tryLock()) {
            // nothing came, or another thread reads, or this one further up (an inline handler, run by the
            // dispatcher's read)
            return 0;
        }
        int work = 0;
        boolean othersAhead = false;
        boolean broken = false;
        try {
            reading = own;
            adopting = own == null;
            try {
                work = requests.read(own != null ? ownFrameHandler : frameHandler, READ_LIMIT);
            } finally {
                reading = null;
                adopting = false;
                othersAhead = foreignAhead;
                foreignAhead = false;
                passWakes.flush();
                blocked |= lentTo != null;
            }
        } catch (RuntimeException e) {
            broken = true; // a broken frame (or the connection closed under it)
        } finally {
            readLock.unlock();
        }
        if (broken) {
            channel.doorbell().wakeSleepers(); // the dispatcher meets the frame, and closes the connection
            return 0;
        }
        if (work > 0) {
            clientDoorbell.signal(); // the client's writer may wait for room
        }
        if (othersAhead) {
            // a frame for the dispatcher, written without a wake while this handler polled (see startPolling)
            channel.doorbell().wakeSleepers();
        }
        return work;
    }

    /**
     * A handler starts polling the request ring for its own request ({@link #pollOwn}): the client's writes stop
     * waking the dispatcher meanwhile (the count of pollers of this connection is in its file, where the client's
     * writer reads it). A sleeping dispatcher woken for each chunk of a 10 GB zero-copy upload came about 9,000 times
     * a second, for nothing, with a system call on the client's side each time. The frames that are not the
     * handler's are handed to the dispatcher: {@link #pollOwn} wakes it when it meets one, as {@link #stopPolling}
     * does when the handler stops to wait or leaves one next in the ring.
     */
    void startPolling() {
        handlerPolls.startPolling();
    }

    /**
     * The handler of {@code own} stops polling. The dispatcher is woken if the handler will now wait ({@code waits}),
     * or if the next frame is another request's: written while the handler polled, it came without a wake, and the
     * handler may not read on (its request may have ended).
     */
    void stopPolling(ServerExchange own, boolean waits) {
        handlerPolls.stopPolling(); // a full fence: what is written from now on wakes the dispatcher itself
        if (waits || otherFrameAhead(own)) {
            channel.doorbell().wakeSleepers();
        }
    }

    /**
     * Whether the ring's next frame is not of {@code own}'s request (any frame, if {@code own} is null). If another
     * thread reads now, {@code true} when frames are there: its read may have begun before they came (the
     * dispatcher's then ends with nothing, and it would sleep on a wake that the client skipped for this poller).
     */
    private boolean otherFrameAhead(ServerExchange own) {
        if (closed || !requests.mayHaveRecords() || readLock.isHeldByCurrentThread()) {
            return false; // nothing there, or this thread reads further up (an inline handler, the dispatcher)
        }
        if (!readLock.tryLock()) {
            return true; // the dispatcher looks again (or sees the wake before it sleeps)
        }
        try {
            reading = own;
            requests.read(ownFramePeek, 1);
            return foreignAhead;
        } catch (RuntimeException e) {
            return true; // a broken frame (or the connection closed under it): the dispatcher meets it, and closes
        } finally {
            reading = null;
            foreignAhead = false;
            readLock.unlock();
        }
    }

    /**
     * A handler's thread, done with its request, polls the request ring for a while for the connection's next request,
     * and handles it itself: while requests follow one another (a client calling in a loop), one virtual thread on one
     * carrier answers them all, as the dispatcher would inline, instead of a virtual thread started for each, whose
     * carrier thread the dispatcher must wake (two context switches and two system calls a request). It reads the ring
     * as the dispatcher does (other frames are handled, other new requests dispatched); the dispatcher, which sleeps
     * meanwhile ({@link #hasNextPoller}), is not woken by the client's writes, as for {@link #pollOwn}. At most one
     * thread of a connection polls so at a time.
     *
     * <p>The poll ends as soon as {@code stepAside} holds: other handlers' threads wait for a carrier. A thread that
     * polls keeps its carrier ({@link SelfPoll}), and while clients call in loops it always finds the next request:
     * on 2 cores, with two such clients, the two carriers stayed with their pollers and a third client's requests
     * waited for a carrier for milliseconds (up to 200 ms in a trace), until a loop paused.
     *
     * <p>A request that comes alone (no other exchange of the connection open), whole, is handled with the thread
     * still counted as polling ({@link #carried}): the count is not written twice a call. The client reads that count
     * at every request it writes, so each write of it by the server cost a cache line moved between the cores both
     * ways; 0.4 µs of a 1.3-1.4 µs round trip (p50, handler on a virtual thread; 0.9 µs without those writes, as
     * inline). It is safe because the client wakes the dispatcher anyway for a request written while another is
     * pending ({@code ClientConnection.otherExchangesPending}), and the carried call is pending until it is answered:
     * a request written after the answer finds this thread polling again, or about to. The count is given back
     * ({@link #releaseCarried}) before anything that may wait or run long after the answer begins: a response larger
     * than one frame, a wait for room in the response ring, the client's CANCEL (the call is no longer pending at the
     * client, its handler may be at work still), or the thread's end.
     *
     * <p>The poll lasts {@code nanos}, or {@code paceNanos} while the client keeps a pace under that: a client that
     * calls now and then, a fraction of a millisecond apart, whose requests each came just after a short poll ran
     * out. Each then waited for the dispatcher, asleep meanwhile, to be woken and to start a virtual thread, whose
     * carrier it had to wake in turn: requests 0.25 ms apart were answered in 35-120 µs at the median (p99 0.3-3.5
     * ms), against 1.6 µs (p99 66-91 µs) when the thread polled 1 ms, the server then using 97% of a core instead of
     * 60%. The long poll begins once a request came within {@code paceNanos} of the start of a short poll that ran
     * out, and goes on while each finds the next request; a long poll that runs out (the client paused, or slowed
     * down), or steps aside, ends it. A client that calls less often costs no more than before, and one that calls
     * in a loop never lets a poll run out. Only a thread with a spinning place polls so long: one without (another
     * connection's poller has it) polls {@code nanos}, yielding its core meanwhile, as before.
     *
     * <p>A poll that ran out may then doze, asleep in the kernel until the client's next request wakes it
     * ({@link #doze}).
     *
     * @param nanos how long to poll (spinning if the thread has a spinning place, else yielding its core: the
     *     dispatcher gives its place up once it sees this thread)
     * @param paceNanos how long to poll while the client keeps a pace under that (see above)
     * @param dozeNanos how long to doze once the poll ran out ({@link #doze}; 0: not at all)
     * @param stepAside whether to stop polling now, asked at every pass
     * @param previous the request this thread has just handled, which may carry the count
     * @return the request this thread is to handle, its first frame read, or {@code null} if none came (or another
     *     thread polls already, or the connection is closed, or the thread stepped aside)
     */
    ServerExchange pollNext(long nanos, long paceNanos, long dozeNanos, BooleanSupplier stepAside,
                            ServerExchange previous) {
        boolean counted = takeBackCarried(previous);
        if (closed || !nextPoller.compareAndSet(null, Thread.currentThread())) {
            if (counted) {
                stopPolling(null, false);
            }
            return null;
        }
        if (!counted) {
            startPolling();
        }
        nextRequest.stepAside = stepAside;
        ServerExchange next = null;
        long startedBefore = HANDLERS_STARTED.get();
        long start = System.nanoTime();
        try {
            if (!nextRequest.paced && gapAfterMissedPoll <= paceNanos) {
                nextRequest.paced = true;
                gapAfterMissedPoll = Long.MAX_VALUE; // taken: the next miss measures afresh
            }
            long length = nextRequest.paced ? Math.max(nanos, paceNanos) : nanos;
            // without a spinning place for nanos (the dispatcher gives its place up once it sees this thread), with
            // one for the whole length
            SelfPoll.poll(nextRequest, start, length, false, nanos);
            if (nextRequest.taken == null && !closed && !stepAside.getAsBoolean()) {
                // ran out: the client's pace is measured (a thread that stepped aside leaves a busy server), by
                // whoever reads the next request, this thread too if it comes while it dozes
                nextRequest.paced = false;
                missedPollStart = start;
                missedPoll = true;
                if (HANDLERS_STARTED.get() == startedBefore) { // a quiet server: see HANDLERS_STARTED
                    doze(dozeNanos);
                }
            }
        } finally {
            next = nextRequest.taken;
            nextRequest.taken = null;
            nextRequest.stepAside = null;
            if (next == null) {
                nextRequest.paced = false;
            }
            nextPoller.set(null);
            // Still counted while it handles a whole request that came alone, unless another's thread is: that
            // thread has not come back for its count yet, and this one gives its own back.
            boolean carry = next != null && next.isRequestComplete() && exchanges.size() == 1
                    && carried.compareAndSet(null, next);
            if (!carry) {
                // the dispatcher delivers the rest of the request's body, and reads the frames after it
                stopPolling(next, next != null && !next.isRequestComplete());
            }
        }
        return next;
    }

    /**
     * The polling thread, its poll run out, sleeps in the kernel on the connection's handler doorbell for up to
     * {@code nanos}, still counted as polling (so the client's writes do not wake the dispatcher, and ring this
     * doorbell instead), and reads the ring whenever it is woken, until the next request is taken
     * ({@link NextRequest#arrived}), or time is up. Only while no other connection's thread dozes, and only if
     * {@link #MAY_DOZE}: the thread keeps its carrier meanwhile (a wait in native code pins a virtual thread), and it
     * must not be the only one. It is woken, and ends its doze, when a handler's thread is to start
     * ({@link #handlerStarting}), and when the connection closes. It begins only after a poll during which no
     * handler's thread started ({@link #HANDLERS_STARTED}).
     *
     * <p>After a pause long enough for both sides to sleep, a request so comes straight to the thread that answers
     * it: woken by the client, it answers as the dispatcher would inline. Dispatched, the request waited for the
     * dispatcher's wake, then for a virtual thread started, and its carrier woken in turn: a scheduler trace of
     * requests 20 ms apart had the dispatcher run 85-108 µs, from its wake to its wake of the carrier, of a round
     * trip of about 270 µs (inline: 85-112); with the doze, 94-126 µs at the median in the same probe.
     */
    private void doze(long nanos) {
        if (nanos <= 0 || !MAY_DOZE) {
            return;
        }
        dozeCalledOff = false; // before the doze is seen: a call-off comes after
        if (!DOZING.compareAndSet(null, this)) {
            return;
        }
        try {
            long deadline = System.nanoTime() + nanos;
            while (!nextRequest.arrived() && !dozeCalledOff) {
                int sequence = handlerDoorbell.announce();
                try {
                    // the Dekker pair's re-check: what came before the announce woke nobody
                    if (nextRequest.pollOnce() == 0 && !nextRequest.arrived() && !dozeCalledOff) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            return;
                        }
                        handlerDoorbell.await(sequence, left, nextRequest.scratch);
                    }
                } finally {
                    handlerDoorbell.retract();
                }
            }
        } catch (IllegalStateException unmapped) {
            // the connection closed under the thread: nothing to wait for
        } finally {
            DOZING.set(null);
        }
    }

    /** The JDK's carrier threads for virtual threads, as many as its scheduler's parallelism. */
    private static int virtualThreadCarriers() {
        int cores = Runtime.getRuntime().availableProcessors();
        try {
            return Integer.parseInt(System.getProperty("jdk.virtualThreadScheduler.parallelism",
                    Integer.toString(cores)).trim());
        } catch (NumberFormatException e) {
            return cores; // not a number: taken as unset
        }
    }

    /**
     * A handler's thread is about to start: counted ({@link #HANDLERS_STARTED}), and the doze of the handler's thread
     * dozing for its connection's next request, if one does ({@link #doze}), ends: it gives its carrier back.
     */
    static void handlerStarting() {
        HANDLERS_STARTED.incrementAndGet();
        ServerConnection dozing = DOZING.get();
        if (dozing != null) {
            dozing.dozeCalledOff = true;
            dozing.handlerDoorbell.wakeAll();
        }
    }

    /**
     * The handler's thread of {@code exchange} no longer counts as polling, if it did ({@link #pollNext}); it may
     * wait or run long from now on. Any thread, any number of times.
     */
    void releaseCarried(ServerExchange exchange) {
        if (takeBackCarried(exchange)) {
            stopPolling(null, false);
        }
    }

    /** Whether {@code exchange}'s thread was counted as polling while it handled it; it is no longer. */
    private boolean takeBackCarried(ServerExchange exchange) {
        return carried.get() == exchange && carried.compareAndSet(exchange, null); // the read spares a CAS, mostly
    }

    /** Whether a handler's thread polls for the next request ({@link #pollNext}): the dispatcher need not spin. */
    boolean hasNextPoller() {
        return nextPoller.get() != null;
    }

    /** The poll of {@link #pollNext}, by the polling thread only. */
    private final class NextRequest implements SelfPoll.Target {
        private final MemorySegment scratch = Signal.newScratch(); // for the kernel's wait in a doze
        private ServerExchange taken;
        private BooleanSupplier stepAside;
        /** Whether the polls last long, while the client keeps its pace (see pollNext); kept from poll to poll. */
        private boolean paced;

        /** What the thread waits for has come, or it is to stop waiting: see {@link #pollNext}. */
        @Override
        public boolean arrived() {
            return taken != null || closed || stepAside.getAsBoolean();
        }

        @Override
        public int pollOnce() {
            int work = readAsHandler(null);
            taken = adopted; // set by this thread's read only
            adopted = null;
            return work;
        }

        @Override
        public CoreTurn turn() {
            return handlerTurn;
        }
    }

    private boolean onOwnFrame(int kind, MemorySegment buffer, long offset, int length) {
        if (isReadersFrame(kind, buffer, offset, length)) {
            return onFrame(kind, buffer, offset, length);
        }
        foreignAhead = true;
        return false;
    }

    /** Looks at the next frame, and leaves it: see {@link #otherFrameAhead}. */
    private boolean peekOwnFrame(int kind, MemorySegment buffer, long offset, int length) {
        foreignAhead = !isReadersFrame(kind, buffer, offset, length);
        return false;
    }

    /**
     * Whether a frame is of the exchange whose handler reads the ring now (none: no frame is): a chunk of its request,
     * or a WINDOW frame of its response, which its writer may wait for.
     */
    private boolean isReadersFrame(int kind, MemorySegment buffer, long offset, int length) {
        return reading != null && (kind == FrameDescriptor.REQUEST || kind == FrameDescriptor.REQUEST_END
                || kind == FrameDescriptor.WINDOW)
                && length >= FrameDescriptor.HEADER_LENGTH // a short frame is the dispatcher's to refuse
                && FrameDescriptor.requestId(kind, buffer, offset, length) == reading.requestId();
    }

    /**
     * Handler: the request record lent to its view is given back; reads of the ring go on after it. Unless the
     * handler {@code readsNext} (and so reads on itself, or wakes the dispatcher before it waits), the dispatcher is
     * woken: it stopped at the lent record.
     */
    void endLoan(boolean readsNext) {
        boolean ended = false;
        readLock.lock();
        try {
            if (lentTo != null) {
                lentTo = null;
                ended = true;
                requests.endLoan();
            }
        } catch (IllegalStateException unmapped) {
            // the connection closed meanwhile: nothing left to give back
        } finally {
            readLock.unlock();
        }
        if (ended) {
            handlerPolls.stopPolling(); // a full fence: what is written from now on wakes the dispatcher itself
        }
        clientDoorbell.signal(); // the client's writer may wait for room
        if (!readsNext) {
            channel.doorbell().signal();
        }
    }

    void checkClientAlive() {
        if (!closed && !client.isAlive()) {
            close("the client process died", Level.INFO);
        }
    }

    private boolean onFrame(int kind, MemorySegment buffer, long offset, int length) {
        long requestId = FrameDescriptor.requestId(kind, buffer, offset, length);
        long chunkOffset = offset + FrameDescriptor.HEADER_LENGTH;
        int chunkLength = length - FrameDescriptor.HEADER_LENGTH;
        switch (kind) {
            case FrameDescriptor.REQUEST, FrameDescriptor.REQUEST_END -> {
                // A client ends every request it starts with REQUEST_END or CANCEL, and sends nothing for it after:
                // an id not in the map starts a new request (ids need not arrive in order).
                ServerExchange exchange = exchanges.get(requestId);
                boolean first = false;
                if (exchange == null) {
                    if (missedPoll) {
                        // the client's pace, for the next poll for a request (see pollNext): read once a miss
                        missedPoll = false;
                        gapAfterMissedPoll = System.nanoTime() - missedPollStart;
                    }
                    SharedAccess.addLongConfined(segment, ConnectionDescriptor.SERVER_REQUESTS_OFFSET, 1);
                    exchange = new ServerExchange(this, requestId);
                    exchanges.put(exchange);
                    first = true;
                } else if (exchange.isRequestComplete()) {
                    return true;
                }
                if (!exchange.admits(chunkLength, channel.settings().maxRequestBytes())) {
                    if (kind == FrameDescriptor.REQUEST_END) {
                        exchange.endRequest();
                    }
                    return true; // refused for its size: the rest is dropped
                }
                // In place only while no other exchange of the connection is pending: the ring stops at a lent (or
                // left) record, and the frames after it wait until its handler reads on.
                int lending = !first && !exchange.isResponding() && exchanges.size() == 1
                        ? exchange.request().lend(buffer, chunkOffset, chunkLength) : InboundStream.NOT_LENT;
                if (lending == InboundStream.LEAVE) {
                    blocked = true;
                    return false; // its handler reads by views: it takes the frame in place with its next
                }
                if (lending == InboundStream.LENT) {
                    lentTo = exchange;
                    requests.lend();
                    handlerPolls.startPolling(); // see lentTo
                } else if (first) {
                    // its handler gets the stream once dispatched, below: no read waits to be woken
                    exchange.request().offerFirst(buffer, chunkOffset, chunkLength,
                            kind == FrameDescriptor.REQUEST_END);
                } else if (!exchange.request().offer(buffer, chunkOffset, chunkLength,
                        kind == FrameDescriptor.REQUEST_END)) {
                    blocked = true;
                    return false; // the handler is behind: leave the frame in the ring
                } else {
                    passWakes.offered(exchange.request());
                }
                exchange.countRequestBytes(chunkLength);
                SharedAccess.addLongConfined(segment, ConnectionDescriptor.SERVER_REQUEST_BYTES_OFFSET, chunkLength);
                if (kind == FrameDescriptor.REQUEST_END) {
                    exchange.endRequest();
                }
                if (first) {
                    // after the first chunk is buffered: a handler run inline must find its (complete) request
                    if (adopting && adopted == null) {
                        adopted = exchange; // the polling handler thread's, once its read is over
                    } else {
                        channel.dispatch(exchange);
                    }
                }
                return true;
            }
            case FrameDescriptor.CANCEL -> {
                ServerExchange exchange = exchanges.remove(requestId);
                if (exchange != null) {
                    exchange.cancel();
                    releaseCarried(exchange); // this thread reads on
                }
                return true;
            }
            case FrameDescriptor.WINDOW -> {
                ServerExchange exchange = exchanges.get(requestId);
                if (exchange != null) {
                    exchange.onWindow(FrameDescriptor.windowCredit(buffer, chunkOffset, chunkLength));
                }
                return true;
            }
            case FrameDescriptor.PING, FrameDescriptor.CLOSE -> {
                return true;
            }
            default -> throw new ProtocolException("unexpected " + FrameDescriptor.kindName(kind)
                    + " frame for request " + requestId);
        }
    }

    /**
     * Adds to one of the server's counters in the connection header; nothing once the file is unmapped. The counters
     * of request frames are added to by the ring's reader alone, under the read lock, without this atomic add.
     */
    void count(long counterOffset, long delta) {
        try {
            SharedAccess.getAndAddLong(segment, counterOffset, delta);
        } catch (IllegalStateException closed) {
            // the connection ended
        }
    }

    /** The exchange is over on both sides. */
    void forget(ServerExchange exchange) {
        exchanges.remove(exchange);
    }

    IpcClosedException closedException() {
        String reason = closeReason;
        return new IpcClosedException(description + ": connection closed"
                + (reason == null ? "" : " (" + reason + ")"));
    }

    /** Whether a request of this connection is still being handled (or its body or response still moving). */
    boolean hasOpenExchanges() {
        return !exchanges.isEmpty();
    }

    /** Dispatcher (or channel close): ends the connection, fails its exchanges, frees its slot and file. */
    void close(String reason, Level level) {
        if (closed) {
            return;
        }
        closeReason = reason;
        closed = true;
        if (DOZING.get() == this) {
            // its kernel wait holds the mapping, which the file's close below waits for: up to the doze's end
            handlerDoorbell.wakeAll();
        }
        ServerChannel.LOG.log(level, () -> description + ": disconnected: " + reason);
        responses.close(this::closedException);
        for (ServerExchange exchange : exchanges.snapshot()) {
            exchange.abort(closedException());
        }
        exchanges.clear();
        try {
            setIntRelease(segment, ConnectionDescriptor.SERVER_STATE_OFFSET, ConnectionDescriptor.SERVER_CLOSED);
            clientDoorbell.wakeAll();
        } catch (RuntimeException ignored) {
            // unmapped already
        }
        channel.freeSlot(slot);
        SharedDirectory.deleteQuietly(channel.directory().connectionFile(channel.name(), connectionId));
        try {
            file.close();
        } catch (IllegalStateException stillInUse) {
            // never the dispatcher's end: the mapping stays until this process exits
            ServerChannel.LOG.log(Level.WARNING, () -> description + ": " + stillInUse.getMessage());
        }
    }

}
