package ipc.connect.internal.connection;

import static ipc.connect.internal.memory.SharedAccess.addLongConfined;
import static ipc.connect.internal.memory.SharedAccess.compareAndSetInt;
import static ipc.connect.internal.memory.SharedAccess.getAndAddLong;
import static ipc.connect.internal.memory.SharedAccess.getIntAcquire;
import static ipc.connect.internal.memory.SharedAccess.getIntPlain;
import static ipc.connect.internal.memory.SharedAccess.getLongPlain;
import static ipc.connect.internal.memory.SharedAccess.setIntPlain;
import static ipc.connect.internal.memory.SharedAccess.setIntRelease;
import static ipc.connect.internal.memory.SharedAccess.setLongPlain;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcConnectException;
import ipc.connect.IpcException;
import ipc.connect.internal.memory.MappedFile;
import ipc.connect.internal.memory.SharedAccess;
import ipc.connect.internal.memory.SharedDirectory;
import ipc.connect.internal.ring.OneToOneRing;
import ipc.connect.internal.ring.RecordHandler;
import ipc.connect.internal.ring.RingCorruptedException;
import ipc.connect.internal.signal.CoreTurn;
import ipc.connect.internal.signal.Signal;
import ipc.connect.internal.signal.SignalWaiter;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client's connection to a listening channel: its connection file with the two rings, and the reader thread that
 * routes response frames to their {@link ClientExchange}s. Thread-safe: many exchanges run at once.
 *
 * <p>The connection dies when the server closes it, the server process dies, or a frame breaks the protocol; every
 * pending exchange then fails with the cause, and {@link #isUsable()} turns false.
 */
public final class ClientConnection implements AutoCloseable {
    private static final System.Logger LOG = ServerChannel.LOG;
    private static final int READ_LIMIT = 64;
    /**
     * While a thread of {@code sendAsync} finds responses to read (it looks after its requests), the reader thread
     * stays off the cores for this long after each such read: on few cores it would only take the core the sender
     * needs. If the sender stops (blocks on a full window), the reader is back within it, or within two if the sender
     * sent last just before the first ended ({@link #SENDER_RETURN_NANOS}).
     */
    private static final long SENDER_TURN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    /**
     * For this long after a sender's turn the reader gives the ring back to it whenever it finds it sending again
     * ({@link ReadCadence#sendsAt}), for another turn: see {@link #run}. In {@code bench}'s pipelined workloads (one
     * instrumented run each way) the sends made without the sender's turn fell from 45% to 2-3%.
     */
    private static final long SENDER_RETURN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final AtomicInteger CONNECTION_COUNTER = new AtomicInteger();
    private static final VarHandle SENDER_READ_AT;

    static {
        try {
            SENDER_READ_AT = MethodHandles.lookup().findVarHandle(ClientConnection.class, "senderReadAt", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final ChannelSettings settings;
    private final SharedDirectory directory;
    private final MappedFile channelFile;
    private final MemorySegment channelHeader;
    private final Signal serverDoorbell;
    /** The server process, asked every liveness period whether it still runs. */
    private final ProcessIdentity.Watch server;
    private final long connectionId;
    private final MappedFile file;
    private final MemorySegment segment;
    private final Signal doorbell;
    private final OneToOneRing responses;
    private final FrameWriter requests;
    private final ExchangeTable<ClientExchange> exchanges = new ExchangeTable<>();
    /** {@link #onFrame} as the ring's handler, made once: callers poll many times a microsecond. */
    private final RecordHandler frameHandler = this::onFrame;
    private final PassWakes passWakes = new PassWakes(); // guarded by readLock
    /** The turn on their cores of the callers that poll this connection for their responses ({@link SelfPoll}). */
    private final CoreTurn callerTurn = new CoreTurn();
    /** Held by whichever thread consumes the response ring: the reader, or a caller waiting for its response. */
    private final ReentrantLock readLock = new ReentrantLock();
    private final AtomicInteger pollingCallers = new AtomicInteger();
    /** Request bodies being streamed by their virtual threads now ({@link #pumpStarted}). */
    private final AtomicInteger pumps = new AtomicInteger();
    private volatile Thread readerParked;
    /** When the threads of {@code sendAsync} read the response ring after their sends. */
    private final ReadCadence readCadence = new ReadCadence();
    /** When a thread of {@code sendAsync} last read the response ring itself ({@code nanoTime}). */
    private volatile long senderReadAt = System.nanoTime() - SENDER_TURN_NANOS;
    private final AtomicLong nextRequestId = new AtomicLong();
    /** Deadlines below are nanoseconds from this {@code nanoTime}, so that {@link Long#MAX_VALUE} means none. */
    private final long epoch = System.nanoTime();
    /**
     * The earliest deadline given to {@link #watchDeadline} since the reader last looked ({@link Long#MAX_VALUE}:
     * none): the reader times out the {@code sendAsync} responses that have not begun by their deadlines.
     */
    private final AtomicLong asyncDeadline = new AtomicLong(Long.MAX_VALUE);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final String description;
    private volatile IOException failure;
    /** The last read of the response ring left a frame for want of room in its stream (under the read lock). */
    private boolean blocked;
    /**
     * The last response frame read was not its response's last: a response streams, and a thread of this process
     * reads it (under the read lock).
     */
    private boolean midStream;
    /** The exchange whose response's view holds a record of the response ring in place, if any (see endLoan). */
    private volatile ClientExchange lentTo;
    private Thread reader;

    private ClientConnection(String name, ChannelSettings settings, SharedDirectory directory, MappedFile channelFile,
                             ProcessIdentity server, long connectionId, MappedFile file) {
        this.name = name;
        this.settings = settings;
        this.directory = directory;
        this.channelFile = channelFile;
        this.channelHeader = channelFile.segment();
        this.server = server.watch();
        this.connectionId = connectionId;
        this.file = file;
        this.segment = file.segment();
        // the dispatcher is not woken (for a request, or for room made in the response ring) while a handler of this
        // connection polls its ring in the dispatcher's stead: such a handler sees to both, and is woken itself if it
        // dozes on the connection's handler doorbell
        this.serverDoorbell = new Signal(channelHeader, ChannelDescriptor.DOORBELL_OFFSET, segment,
                ConnectionDescriptor.SERVER_POLLERS_OFFSET,
                new Signal(segment, ConnectionDescriptor.HANDLER_DOORBELL_OFFSET));
        this.doorbell = new Signal(segment, ConnectionDescriptor.DOORBELL_OFFSET);
        int capacity = settings.ringCapacity();
        this.requests = new FrameWriter(
                new OneToOneRing(segment, ConnectionDescriptor.requestRingOffset(), capacity), serverDoorbell,
                this::otherExchangesPending, ConnectionDescriptor.CLIENT_REQUEST_BYTES_OFFSET);
        this.responses = new OneToOneRing(segment, ConnectionDescriptor.responseRingOffset(capacity), capacity);
        this.description = "channel '" + name + "' (server pid " + server.pid() + ")";
    }

    /**
     * Connects to the server listening on {@code name}.
     *
     * @throws IpcConnectException if no server listens there, it is gone, full, or does not accept in time
     * @throws IpcException if the channel file is damaged or the settings differ
     */
    public static ClientConnection connect(String name, ChannelSettings settings, long timeoutNanos)
            throws IOException {
        SharedDirectory.checkChannelName(name);
        SharedDirectory directory = settings.sharedDirectory();
        long deadline = System.nanoTime() + timeoutNanos;
        Path channelPath = directory.channelFile(name);
        MappedFile channelFile;
        try {
            channelFile = MappedFile.open(channelPath);
        } catch (NoSuchFileException e) {
            throw new IpcConnectException("channel '" + name + "': no server is listening (no file " + channelPath
                    + ")");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IpcConnectException("channel '" + name + "': permission denied on " + e.getFile()
                    + ": the channel belongs to another user (channels are owner-only unless the server's factory"
                    + " sets shareWithGroup and both users share its group)", e);
        }
        MappedFile connectionFile = null;
        long connectionId = 0;
        int slot = -1;
        try {
            MemorySegment header = channelFile.segment();
            ProcessIdentity server = checkChannel(name, channelPath, channelFile, settings, deadline);
            connectionId = (ProcessIdentity.current().pid() << 32)
                    | (CONNECTION_COUNTER.incrementAndGet() & 0xFFFF_FFFFL);
            try {
                connectionFile = directory.createFile(directory.connectionFile(name, connectionId),
                        ConnectionDescriptor.fileLength(settings.ringCapacity()));
            } catch (SharedDirectory.NoRoomException e) {
                throw new IpcConnectException("channel '" + name + "': " + e.getMessage(), e);
            }
            slot = claimSlot(name, header, settings.maxConnections(), connectionId);
            writeHeader(connectionFile.segment(), settings, slot, header);
            publishSlot(header, slot);
            ClientConnection connection = new ClientConnection(name, settings, directory, channelFile, server,
                    connectionId, connectionFile);
            connection.awaitAccept(deadline);
            connection.reader = Thread.ofPlatform().daemon().name("ipc-connect-client-" + name)
                    .start(connection::run);
            LOG.log(Level.DEBUG, () -> connection.description + ": connected");
            return connection;
        } catch (IOException | RuntimeException e) {
            if (slot >= 0) {
                compareAndSetInt(channelFile.segment(), ChannelDescriptor.slotOffset(slot)
                        + ChannelDescriptor.SLOT_STATE_OFFSET, ChannelDescriptor.SLOT_PENDING,
                        ChannelDescriptor.SLOT_FREE);
            }
            if (connectionFile != null) {
                setIntRelease(connectionFile.segment(), ConnectionDescriptor.CLIENT_STATE_OFFSET,
                        ConnectionDescriptor.CLIENT_CLOSED);
                SharedDirectory.deleteQuietly(connectionFile.path());
                connectionFile.close();
            }
            channelFile.close();
            directory.deleteIfEmpty();
            if (e instanceof RingCorruptedException) {
                throw new IpcException("channel '" + name + "': " + e.getMessage());
            }
            throw e;
        }
    }

    private static ProcessIdentity checkChannel(String name, Path path, MappedFile channelFile,
                                                ChannelSettings settings, long deadline) throws IOException {
        MemorySegment header = channelFile.segment();
        if (channelFile.size() < ChannelDescriptor.HEADER_LENGTH) {
            throw new IpcException("channel '" + name + "': file " + path + " is " + channelFile.size()
                    + " bytes, shorter than the " + ChannelDescriptor.HEADER_LENGTH + "-byte header");
        }
        int version;
        while ((version = getIntAcquire(header, ChannelDescriptor.LAYOUT_VERSION_OFFSET)) == 0) {
            // the server is still writing the header
            if (System.nanoTime() - deadline >= 0) {
                throw new IpcConnectException("channel '" + name + "': the server did not finish creating " + path);
            }
            LockSupport.parkNanos(100_000);
        }
        ChannelDescriptor.checkHeader(name, path, channelFile.size(),
                getLongPlain(header, ChannelDescriptor.MAGIC_OFFSET), version,
                getIntPlain(header, ChannelDescriptor.HEADER_LENGTH_OFFSET),
                getIntPlain(header, ChannelDescriptor.MAX_CONNECTIONS_OFFSET));
        int serverCapacity = getIntPlain(header, ChannelDescriptor.RING_CAPACITY_OFFSET);
        if (serverCapacity != settings.ringCapacity()) {
            throw new IpcException("channel '" + name + "': settings differ: the server's ring capacity is "
                    + serverCapacity + " bytes, this client's " + settings.ringCapacity() + " bytes");
        }
        int serverMaxConnections = getIntPlain(header, ChannelDescriptor.MAX_CONNECTIONS_OFFSET);
        if (serverMaxConnections != settings.maxConnections()) {
            throw new IpcException("channel '" + name + "': settings differ: the server allows "
                    + serverMaxConnections + " connections, this client's factory says " + settings.maxConnections());
        }
        long serverMaxRequest = getLongPlain(header, ChannelDescriptor.MAX_REQUEST_BYTES_OFFSET);
        if (serverMaxRequest != settings.maxRequestBytes()) {
            throw new IpcException("channel '" + name + "': settings differ: the server accepts requests of at most "
                    + limit(serverMaxRequest) + ", this client's factory says " + limit(settings.maxRequestBytes()));
        }
        ProcessIdentity server = new ProcessIdentity(getLongPlain(header, ChannelDescriptor.SERVER_PID_OFFSET),
                getLongPlain(header, ChannelDescriptor.SERVER_START_TIME_OFFSET));
        if (getIntAcquire(header, ChannelDescriptor.STATE_OFFSET) != ChannelDescriptor.STATE_OPEN) {
            throw new IpcConnectException("channel '" + name + "': the server (pid " + server.pid()
                    + ") is closing");
        }
        if (!server.isAlive()) {
            boolean reclaimed = ServerChannel.reclaimIfStale(name, settings.sharedDirectory());
            throw new IpcConnectException("channel '" + name + "': no server is listening; the channel file "
                    + path + " was left by pid " + server.pid() + ", which is gone"
                    + (reclaimed ? " (stale files removed)" : ""));
        }
        return server;
    }

    private static String limit(long bytes) {
        return bytes == Long.MAX_VALUE ? "no limit" : bytes + " bytes";
    }

    private static int claimSlot(String name, MemorySegment header, int maxConnections, long connectionId)
            throws IpcConnectException {
        for (int slot = 0; slot < maxConnections; slot++) {
            long at = ChannelDescriptor.slotOffset(slot);
            if (compareAndSetInt(header, at + ChannelDescriptor.SLOT_STATE_OFFSET, ChannelDescriptor.SLOT_FREE,
                    ChannelDescriptor.SLOT_CLAIMED)) {
                // release: a server that sees the id (reclaiming abandoned slots) sees this claim's own id
                SharedAccess.setLongRelease(header, at + ChannelDescriptor.SLOT_CONNECTION_ID_OFFSET, connectionId);
                return slot;
            }
        }
        throw new IpcConnectException("channel '" + name + "': the server has reached its limit of "
                + maxConnections + " connections");
    }

    private static void writeHeader(MemorySegment segment, ChannelSettings settings, int slot,
                                    MemorySegment channelHeader) {
        ProcessIdentity self = ProcessIdentity.current();
        setLongPlain(segment, ConnectionDescriptor.MAGIC_OFFSET, ConnectionDescriptor.MAGIC);
        setIntPlain(segment, ConnectionDescriptor.HEADER_LENGTH_OFFSET, ConnectionDescriptor.HEADER_LENGTH);
        setIntPlain(segment, ConnectionDescriptor.RING_CAPACITY_OFFSET, settings.ringCapacity());
        setIntPlain(segment, ConnectionDescriptor.SLOT_OFFSET, slot);
        setLongPlain(segment, ConnectionDescriptor.CLIENT_PID_OFFSET, self.pid());
        setLongPlain(segment, ConnectionDescriptor.CLIENT_START_TIME_OFFSET, self.startMillis());
        setIntPlain(segment, ConnectionDescriptor.CLIENT_STATE_OFFSET, ConnectionDescriptor.CLIENT_OPEN);
        setLongPlain(segment, ConnectionDescriptor.CHANNEL_NONCE_OFFSET,
                getLongPlain(channelHeader, ChannelDescriptor.NONCE_OFFSET));
        setLongPlain(segment, ConnectionDescriptor.CONNECTED_AT_OFFSET, System.currentTimeMillis());
        setIntRelease(segment, ConnectionDescriptor.LAYOUT_VERSION_OFFSET, ConnectionDescriptor.LAYOUT_VERSION);
    }

    private static void publishSlot(MemorySegment header, int slot) {
        setIntRelease(header, ChannelDescriptor.slotOffset(slot) + ChannelDescriptor.SLOT_STATE_OFFSET,
                ChannelDescriptor.SLOT_PENDING);
        getAndAddLong(header, ChannelDescriptor.CONNECT_SEQUENCE_OFFSET, 1);
        new Signal(header, ChannelDescriptor.DOORBELL_OFFSET).signal();
    }

    private void awaitAccept(long deadline) throws IOException {
        long pause = 10_000;
        LivenessSchedule liveness = new LivenessSchedule();
        while (true) {
            int state = getIntAcquire(segment, ConnectionDescriptor.SERVER_STATE_OFFSET);
            if (state == ConnectionDescriptor.SERVER_ACCEPTED) {
                return;
            }
            if (state != ConnectionDescriptor.SERVER_PENDING) {
                throw new IpcConnectException(description + ": the server refused the connection");
            }
            if (getIntAcquire(channelHeader, ChannelDescriptor.STATE_OFFSET) != ChannelDescriptor.STATE_OPEN) {
                throw new IpcConnectException(description + ": the server is closing");
            }
            long now = System.nanoTime();
            if (liveness.due(now, true) && !server.isAlive()) {
                throw new IpcConnectException(description + ": the server process is gone");
            }
            if (now - deadline >= 0) {
                throw new IpcConnectException(description + ": the server did not accept the connection in time");
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 1_000_000);
        }
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    /** Largest chunk one frame carries. */
    public int maxChunk() {
        return requests.maxChunk();
    }

    /** The flow-control window of one body. */
    int window() {
        return settings.window();
    }

    FrameWriter requests() {
        return requests;
    }

    /** Why this connection is unusable (the message of its failure), or {@code null} if it is usable. */
    public String lossDescription() {
        IOException cause = failure;
        return cause != null ? cause.getMessage() : closed.get() ? description + ": closed" : null;
    }

    /** Whether new exchanges can start on this connection. */
    public boolean isUsable() {
        return failure == null && !closed.get();
    }

    /**
     * Starts an exchange; its response must begin within {@code timeoutNanos} and each later chunk arrive within it.
     *
     * @throws IpcClosedException if the connection is dead or closed
     */
    public ClientExchange begin(long timeoutNanos) throws IOException {
        ClientExchange holder = lentTo;
        if (holder != null && holder.response().isViewedInPlaceBy(Thread.currentThread())) {
            // its response would wait behind the record this thread holds: fail now rather than at the timeout
            throw new IpcException(description + ": this thread holds a view of the response to request "
                    + holder.requestId() + " in place in shared memory (readView), which holds the connection's"
                    + " later responses back until that stream is read on or closed; read on or close it first");
        }
        ClientExchange exchange = new ClientExchange(this, nextRequestId.incrementAndGet(), timeoutNanos);
        count(ConnectionDescriptor.CLIENT_REQUESTS_OFFSET, 1);
        exchanges.put(exchange);
        IOException cause = deadCause();
        if (cause != null) {
            exchanges.remove(exchange);
            throw cause;
        }
        return exchange;
    }

    private IOException deadCause() {
        IOException cause = failure;
        if (cause != null) {
            return Failures.inCaller(cause);
        }
        if (closed.get()) {
            return new IpcClosedException(description + ": the client is closed");
        }
        return null;
    }


    /**
     * Adds to one of the client's counters in the connection header; nothing once the file is unmapped. The counter
     * of response bytes is added to by the ring's reader alone, under the read lock, without this atomic add.
     */
    void count(long counterOffset, long delta) {
        try {
            getAndAddLong(segment, counterOffset, delta);
        } catch (IllegalStateException closed) {
            // the connection ended
        }
    }

    void forget(ClientExchange exchange) {
        exchanges.remove(exchange);
    }

    /**
     * Request writer: whether exchanges other than the writing one are pending, whose handlers may be at work. A
     * handler's thread counts as polling the request ring while it answers a call that came alone, and reads the ring
     * again only once it has answered ({@code ServerConnection.pollNext}): a request written while another is pending
     * wakes the dispatcher even if handlers poll. One that comes alone finds that thread polling again, or about to.
     */
    private boolean otherExchangesPending() {
        return exchanges.size() > 1;
    }

    /**
     * A CANCEL frame was written: it wakes the dispatcher even if handlers poll. The cancelled exchange is no longer
     * pending, but its handler may be at work still, counted as polling: the frame's reader takes that count back,
     * so that the requests that come next, alone, wake the dispatcher ({@code ServerConnection.onFrame}).
     */
    void cancelWritten() {
        serverDoorbell.wakeSleepers();
    }

    /** Exchanges not over yet: sent (or being sent) and not fully answered, or not given up. */
    public int pendingExchanges() {
        return exchanges.size();
    }

    /**
     * Has the reader time out {@code exchange}, an exchange of {@code sendAsync}, at its deadline unless its
     * response has begun by then; see {@link ClientExchange#checkDeadline}. Waking the reader costs nothing unless
     * this deadline comes before every other one it waits for.
     */
    void watchDeadline(long deadlineNanos) {
        long relative = Math.max(0, deadlineNanos - epoch);
        // Calls with one timeout come in deadline order: only the first of a run writes (an atomic update writes even
        // what it leaves unchanged). The reader, resetting this to none, then finds the others in the table.
        long earliest;
        do {
            earliest = asyncDeadline.get();
            if (relative >= earliest) {
                return;
            }
        } while (!asyncDeadline.compareAndSet(earliest, relative));
        // the reader may sleep toward a later deadline: it looks again (if parked instead, its async caller wakes it:
        // see ClientExchange.responseAsync)
        doorbell.wakeSleepers();
    }

    /**
     * Wakes the reader if it is parked while, or for its period after, callers poll for their own responses (the last
     * of them wakes it only if other calls are pending, see {@link #stopPolling}).
     */
    void unparkReader() {
        Thread parked = readerParked;
        if (parked != null) {
            LockSupport.unpark(parked);
        }
    }

    /** Reader: how long it may sleep, at most {@code longest}, before an async deadline is due. */
    private long untilDeadline(long now, long longest) {
        long deadline = asyncDeadline.get();
        return deadline == Long.MAX_VALUE ? longest : Math.max(0, Math.min(longest, deadline - (now - epoch)));
    }

    /** Reader: once the earliest deadline has come, times out the async exchanges due and watches the others. */
    private void checkDeadlines(long now) {
        long deadline = asyncDeadline.get();
        if (deadline == Long.MAX_VALUE || now - epoch < deadline) {
            return;
        }
        // an exchange begun meanwhile has registered itself (after this reset) or is in the table (before it)
        asyncDeadline.set(Long.MAX_VALUE);
        for (ClientExchange exchange : exchanges.snapshot()) {
            exchange.checkDeadline(now);
        }
    }

    /**
     * A request body starts streaming from a thread of its own. Meanwhile the reader spins less when idle (as while a
     * response streams): on few cores the body's thread needs the core more than the reader, which only hands it the
     * window the server gives back. Client→server 2 GB pairs, interleaved: 7 of 10 faster with it (zero-copy 3.5-5.2
     * against 3.2-4.3 GB/s), the reader otherwise spinning through most of the transfer.
     */
    void pumpStarted() {
        pumps.incrementAndGet();
    }

    /** The body's thread is done: see {@link #pumpStarted}. */
    void pumpEnded() {
        pumps.decrementAndGet();
    }

    /** The turn on their cores of this connection's polling callers. */
    CoreTurn callerTurn() {
        return callerTurn;
    }

    /** Wakes the reader if it sleeps: a stalled response stream has room again. */
    void wakeReader() {
        doorbell.wakeSleepers();
    }

    /**
     * The response stream a record was lent to gives it back: reads of the ring go on after it. Unless its consumer
     * {@code readsNext} (so polls the ring itself, or the reader is woken as it stops) and no other exchange is
     * pending, the reader is woken: it stopped at the lent record.
     */
    void endLoan(boolean readsNext) {
        readLock.lock();
        try {
            lentTo = null;
            if (failure == null) {
                responses.endLoan();
            }
        } catch (IllegalStateException unmapped) {
            // the connection ended meanwhile: nothing left to give back
        } finally {
            readLock.unlock();
        }
        serverDoorbell.signal(); // the server's writer may wait for room
        if (!readsNext || exchanges.size() > 1) {
            doorbell.wakeSleepers();
        }
    }

    // ------------------------------------------------------------------------------------------------ reader thread

    private void run() {
        SignalWaiter waiter = new SignalWaiter(doorbell, settings.spinCount(), settings.yieldCount(),
                LivenessSchedule.IDLE_PERIOD_NANOS);
        LivenessSchedule liveness = new LivenessSchedule();
        boolean afterCallers = false;
        long senderTurnOver = senderReadAt; // the last read of a sender found to be over its turn
        CoreTurn turn = new CoreTurn();
        try {
            while (!closed.get()) {
                if (pollingCallers.get() > 0) {
                    afterCallers = true;
                    // a caller polls the ring: stay off the cores and out of the server's way (not announced)
                    waiter.reset();
                    waiter.stopSpinning(); // the caller may spin in this thread's place
                    readerParked = Thread.currentThread();
                    if (pollingCallers.get() > 0) {
                        LockSupport.parkNanos(untilDeadline(System.nanoTime(), LivenessSchedule.BUSY_PERIOD_NANOS));
                    }
                    readerParked = null;
                }
                long readAt = senderReadAt;
                boolean senderReads = false;
                if (readAt != senderTurnOver) { // the clock only while a sender's turn may last, or come back
                    long checkedAt = System.nanoTime();
                    long sinceSender = checkedAt - readAt;
                    long turnLeft = SENDER_TURN_NANOS - sinceSender;
                    if (turnLeft <= 0 && sinceSender < SENDER_RETURN_NANOS
                            && readCadence.sendsAt(checkedAt)) {
                        // The turn lapsed (the sender's thread lost its core a while, say) and the sender sends on:
                        // it has the ring back. Else this thread, polling hot on the core the sender needs, read its
                        // responses first, the sender's reads found none and took no turn, and the two shared a core
                        // while it lasted.
                        turnLeft = SENDER_TURN_NANOS;
                    }
                    senderReads = turnLeft > 0;
                    if (senderReads) {
                        waiter.reset(); // not announced: the sender reads, this thread only checks below
                        waiter.stopSpinning();
                        LockSupport.parkNanos(turnLeft);
                    } else if (sinceSender >= SENDER_RETURN_NANOS) {
                        senderTurnOver = readAt;
                    }
                }
                int work = senderReads ? 0 : readResponses();
                requests.wakeIfRoom();
                if (getIntAcquire(segment, ConnectionDescriptor.SERVER_STATE_OFFSET)
                        == ConnectionDescriptor.SERVER_CLOSED
                        || getIntAcquire(channelHeader, ChannelDescriptor.STATE_OFFSET)
                        != ChannelDescriptor.STATE_OPEN) {
                    readResponses(); // frames written before the close
                    die(new IpcClosedException(description + ": the server closed the connection"), Level.DEBUG);
                    return;
                }
                boolean clock = work > 0 || senderReads || waiter.isClockDue();
                long now = clock ? System.nanoTime() : 0;
                long untilLivenessCheck = 0;
                if (clock) {
                    boolean pending = !exchanges.isEmpty();
                    if (liveness.due(now, pending) && !server.isAlive()) {
                        die(new IpcClosedException(description + ": the server process died"), Level.INFO);
                        return;
                    }
                    untilLivenessCheck = liveness.untilNext(now, pending);
                    checkDeadlines(now);
                    // busy (a response streaming, responses pipelined), this thread need never block: while the
                    // cores are contended, other threads have its core in turn
                    turn.yieldIfOver(now);
                }
                if (work > 0) {
                    waiter.reset();
                } else if (!senderReads) {
                    if (blocked || lentTo != null) {
                        // as the server's dispatcher does: the stream's reader needs the core (and gives the lent
                        // record back before this thread can read on)
                        waiter.skipSpinning();
                    } else if (afterCallers && !midStream) {
                        // Back from callers that poll for themselves (one parked, or they stopped): they will again
                        // for their next calls, and a spinning reader held the place the next one needed, so that
                        // it parked too and had its response through this thread, call after call.
                        waiter.skipSpinning();
                    }
                    afterCallers = false;
                    // while a body streams, its reader (or writer) needs a core more than this thread needs to be hot
                    // (a spinning waiter does not sleep: without the clock, the longest sleep is none)
                    waiter.idle(midStream || pumps.get() > 0,
                            clock ? untilDeadline(now, untilLivenessCheck) : 0);
                }
            }
        } catch (RingCorruptedException | ProtocolException e) {
            die(new IpcException(description + ": protocol error: " + e.getMessage()), Level.WARNING);
        } catch (RuntimeException e) {
            if (!closed.get()) {
                die(new IpcException(description + ": reader failed: " + e, e), Level.WARNING);
            }
        } finally {
            waiter.reset();
            waiter.stopSpinning();
        }
    }

    private int readResponses() {
        if (failure != null || !responses.mayHaveRecords() || readLock.isHeldByCurrentThread()
                || !readLock.tryLock()) {
            return 0; // nothing came, or another thread is reading, or this one further up (a completion that sends)
        }
        try {
            if (failure != null) {
                return 0;
            }
            blocked = false;
            int work;
            try {
                work = responses.read(frameHandler, READ_LIMIT);
            } finally {
                passWakes.flush();
            }
            if (work > 0) {
                serverDoorbell.signal(); // the server's writer may wait for room
            }
            return work;
        } finally {
            readLock.unlock();
        }
    }

    /**
     * A caller starts polling the response ring for its own response. If the reader sleeps in the kernel (after an
     * idle spell), the caller also tells the server so through the doorbell: the server then writes the response
     * without waking the reader, a system call on its side and a thread woken on ours, both for nothing. While the
     * reader spins or parks (a busy connection), the doorbell's cache line is left alone.
     *
     * @return whether the caller polls on the doorbell, which it passes to {@link #stopPolling}
     */
    boolean startPolling() {
        pollingCallers.incrementAndGet();
        if (doorbell.hasSleepers()) {
            doorbell.startPolling();
            return true;
        }
        return false;
    }

    /**
     * A caller stops polling. The reader thread takes over at once if {@code needReader} (the caller will park, or
     * its exchange needs frames it will not poll for) or other exchanges than the caller's are pending; otherwise it
     * resumes within its period.
     *
     * @param onDoorbell what {@link #startPolling()} returned
     * @param own the caller's exchange
     */
    void stopPolling(boolean needReader, boolean onDoorbell, ClientExchange own) {
        if (onDoorbell) {
            doorbell.stopPolling();
        }
        if (pollingCallers.decrementAndGet() == 0
                && (needReader || exchanges.size() > (exchanges.get(own.requestId()) == own ? 1 : 0))) {
            unparkReader();
            doorbell.wakeSleepers(); // frames may have come without a wake while callers polled on the doorbell
        }
    }

    /**
     * Caller side: reads response frames if no other thread is, so a caller waiting for its response sees it without
     * a hand-off from the reader thread.
     *
     * @return the frames consumed
     */
    int pollResponses() {
        requests.wakeIfRoom(); // the server skips the wake for room while a caller polls on the doorbell
        try {
            return readResponses();
        } catch (RingCorruptedException | ProtocolException e) {
            die(new IpcException(description + ": protocol error: " + e.getMessage()), Level.WARNING);
            return 0;
        } catch (IllegalStateException unmapped) {
            if (closed.get()) {
                return 0; // the client was closed meanwhile (by a completion this thread ran, say): the ring with it
            }
            throw unmapped;
        }
    }

    /**
     * A thread of {@code sendAsync}, after sending: reads the responses that have come (while it pipelines, after one
     * send in a few: {@link ReadCadence}). If there were some, the reader thread leaves the next ones to it for a
     * while; if none (it may wait for this one now), the reader goes on reading.
     *
     * @param sentAt when the request just sent began ({@code nanoTime}), well under a microsecond ago: the time of
     *     this read, as near as the reader needs it, without a clock reading (26 ns on this project's machine, a
     *     tenth of the caller's time for a request)
     */
    void pollAfterSend(long sentAt) {
        int pending = exchanges.size();
        if (pending > 1 && !readLock.isHeldByCurrentThread()) {
            // Pipelining, and not a completion run inside a read (by the reader, say) that sends again: only a sender
            // that keeps others in flight and reads for itself after its sends has the ring back from the reader, or
            // skips reads. One that waits for each response (a loop of sendAsync and get) needs the reader at once.
            if (!readCadence.readNow(sentAt, sentAt - senderReadAt < SENDER_TURN_NANOS, pending)) {
                return; // a later send of this sender reads this response with others
            }
        }
        if (pollResponses() > 0) {
            SENDER_READ_AT.setRelease(this, sentAt); // the reader only needs to see it soon: no fence
        }
    }

    private boolean onFrame(int kind, MemorySegment buffer, long offset, int length) {
        long requestId = FrameDescriptor.requestId(kind, buffer, offset, length);
        long chunkOffset = offset + FrameDescriptor.HEADER_LENGTH;
        int chunkLength = length - FrameDescriptor.HEADER_LENGTH;
        ClientExchange exchange = exchanges.get(requestId);
        switch (kind) {
            case FrameDescriptor.RESPONSE, FrameDescriptor.RESPONSE_END -> {
                if (exchange == null) {
                    return true; // a late response to a request given up: dropped
                }
                boolean end = kind == FrameDescriptor.RESPONSE_END;
                // In place only while no other exchange is pending: the ring stops at a lent (or left) record, and
                // the responses after it wait until its reader reads on (see begin).
                int lending = exchanges.size() == 1 ? exchange.lend(buffer, chunkOffset, chunkLength, end)
                        : InboundStream.NOT_LENT;
                if (lending == InboundStream.LEAVE) {
                    blocked = true; // its reader polls for it in its next readView
                    return false;
                }
                if (lending == InboundStream.LENT) {
                    lentTo = exchange;
                    responses.lend();
                } else if (!exchange.onData(buffer, chunkOffset, chunkLength, end)) {
                    blocked = true; // its reader rings the doorbell once it has made room
                    return false;
                } else {
                    passWakes.offered(exchange.response());
                }
                midStream = kind == FrameDescriptor.RESPONSE;
                addLongConfined(segment, ConnectionDescriptor.CLIENT_RESPONSE_BYTES_OFFSET, chunkLength);
                return true;
            }
            case FrameDescriptor.ERROR -> {
                if (exchange != null) {
                    String[] error = FrameDescriptor.decodeError(buffer, chunkOffset, chunkLength);
                    exchange.onRemoteError(error[0], error[1]);
                }
                return true;
            }
            case FrameDescriptor.WINDOW -> {
                int credit = FrameDescriptor.windowCredit(buffer, chunkOffset, chunkLength);
                if (exchange != null) {
                    exchange.onWindow(credit);
                }
                return true;
            }
            case FrameDescriptor.STOP -> {
                if (exchange != null) {
                    exchange.onStop();
                }
                return true;
            }
            case FrameDescriptor.PING -> {
                return true;
            }
            default -> throw new ProtocolException("unexpected "
                    + FrameDescriptor.kindName(kind) + " frame for request " + requestId);
        }
    }

    /** Logged once per connection, at {@code level}: DEBUG for an orderly close, higher for death or damage. */
    private void die(IOException cause, Level level) {
        if (failure != null) {
            return;
        }
        failure = cause;
        LOG.log(level, () -> "connection lost, client pid " + ProcessIdentity.current().pid() + ": "
                + cause.getMessage());
        requests.close(() -> Failures.inCaller(cause));
        for (ClientExchange exchange : exchanges.snapshot()) {
            exchange.onFailure(Failures.inCaller(cause));
        }
        exchanges.clear();
    }

    /**
     * Closes the connection: pending exchanges fail with {@link IpcClosedException}, the server is told, the
     * connection file is deleted. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            setIntRelease(segment, ConnectionDescriptor.CLIENT_STATE_OFFSET, ConnectionDescriptor.CLIENT_CLOSED);
            serverDoorbell.wakeSleepers(); // the dispatcher sees the close, polling handlers or not
        } catch (RuntimeException ignored) {
            // already unmapped
        }
        doorbell.wakeAll();
        Thread thread = reader;
        if (thread == Thread.currentThread()) {
            // A completion the reader runs (Runnable::run) closes its own client: waiting for the reader here would
            // wait forever, and the reader still reads the ring further up this stack. A thread of its own waits for
            // the reader to leave its loop, then releases the connection.
            Thread.ofPlatform().daemon().name("ipc-connect-close-" + name).start(() -> {
                awaitReader(thread);
                release();
            });
            return;
        }
        // the reader may be parked, off the doorbell, while callers poll or a sender reads (up to the liveness
        // period): it would see the close only then
        LockSupport.unpark(thread);
        boolean interrupted = awaitReader(thread);
        release();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for the reader thread to end; returns whether the waiting thread was interrupted meanwhile. */
    private static boolean awaitReader(Thread thread) {
        boolean interrupted = false;
        while (thread != null && thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        return interrupted;
    }

    /** Fails what is pending and gives the connection's files back: once closed, with the reader stopped. */
    private void release() {
        IpcClosedException cause = new IpcClosedException(description + ": the client is closed");
        if (failure == null) {
            failure = cause;
        }
        requests.close(() -> new IpcClosedException(cause.getMessage()));
        for (ClientExchange exchange : exchanges.snapshot()) {
            exchange.onFailure(new IpcClosedException(cause.getMessage()));
        }
        exchanges.clear();
        SharedDirectory.deleteQuietly(file.path());
        file.close();
        channelFile.close();
        directory.deleteIfEmpty();
    }
}
