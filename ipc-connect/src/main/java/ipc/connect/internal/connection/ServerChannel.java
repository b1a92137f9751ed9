package ipc.connect.internal.connection;

import static ipc.connect.internal.memory.SharedAccess.compareAndSetInt;
import static ipc.connect.internal.memory.SharedAccess.getIntAcquire;
import static ipc.connect.internal.memory.SharedAccess.getLongAcquire;
import static ipc.connect.internal.memory.SharedAccess.getLongPlain;
import static ipc.connect.internal.memory.SharedAccess.setIntPlain;
import static ipc.connect.internal.memory.SharedAccess.setIntRelease;
import static ipc.connect.internal.memory.SharedAccess.setLongPlain;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcException;
import ipc.connect.internal.memory.MappedFile;
import ipc.connect.internal.memory.SharedDirectory;
import ipc.connect.internal.signal.CoreTurn;
import ipc.connect.internal.signal.Signal;
import ipc.connect.internal.signal.SignalWaiter;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A listening channel: owns the channel file, the lock that makes this server the only one on the channel, and
 * the dispatcher thread that accepts connections and routes request frames.
 *
 * <p>{@link #close()} ends every connection (their callers get {@link IpcClosedException}), stops the dispatcher and
 * deletes the channel's files. It is idempotent.
 */
public final class ServerChannel implements AutoCloseable {
    static final System.Logger LOG = System.getLogger("ipc.connect");
    /**
     * How long a dispatcher with no connection sleeps: it has no client to check, only slots abandoned by clients
     * that died while connecting (a connecting client rings the doorbell, which wakes it at once).
     */
    private static final long UNCONNECTED_SLEEP_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long a slot may stay CLAIMED (a client between its CAS and its publish) before its claimant is checked. */
    private static final long CLAIM_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Channels listened on by this JVM: a second listen must fail without touching the first one's lock file. */
    private static final Set<Path> LISTENING = ConcurrentHashMap.newKeySet();
    /** Channels open in this JVM, whose files a normal JVM exit (SIGTERM, System.exit) must not leave behind. */
    private static final Set<ServerChannel> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("ipc-connect-shutdown").unstarted(() -> {
            for (ServerChannel channel : OPEN) {
                channel.deleteFiles();
            }
        }));
    }

    private final String name;
    private final ChannelSettings settings;
    private final SharedDirectory directory;
    private final Path lockPath;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final MappedFile file;
    private final MemorySegment header;
    private final Signal doorbell;
    private final Consumer<ServerExchange> onRequest;
    private final Thread dispatcher;
    private final List<ServerConnection> connections = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean stopping;
    private volatile int connectionCount;
    private long lastConnectSequence;
    /** Dispatcher only: when each slot was first seen CLAIMED (0: not claimed). */
    private long[] claimedSince;

    private ServerChannel(String name, ChannelSettings settings, SharedDirectory directory, Path lockPath,
                          FileChannel lockChannel, FileLock lock, MappedFile file, Consumer<ServerExchange> onRequest) {
        this.name = name;
        this.settings = settings;
        this.directory = directory;
        this.lockPath = lockPath;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.file = file;
        this.header = file.segment();
        this.doorbell = new Signal(header, ChannelDescriptor.DOORBELL_OFFSET);
        this.onRequest = onRequest;
        this.dispatcher = Thread.ofPlatform().daemon().name("ipc-connect-dispatcher-" + name).unstarted(this::run);
    }

    /**
     * Starts listening on {@code name}.
     *
     * @param onRequest called on the dispatcher thread for each new request; must hand it off quickly
     * @throws IpcException if another server listens on the channel, or the files cannot be created
     */
    public static ServerChannel listen(String name, ChannelSettings settings, Consumer<ServerExchange> onRequest)
            throws IOException {
        SharedDirectory.checkChannelName(name);
        SharedDirectory directory = settings.sharedDirectory();
        Path lockPath = directory.lockFile(name);
        if (!LISTENING.add(lockPath)) {
            throw new IpcException("channel '" + name + "': this process already listens on it");
        }
        FileChannel lockChannel = null;
        try {
            FileLock lock = lockExclusively(name, directory, lockPath);
            lockChannel = lock.channel();
            reclaimStaleFiles(name, directory);
            MappedFile file;
            try {
                file = directory.createFile(directory.channelFile(name),
                        ChannelDescriptor.fileLength(settings.maxConnections()));
            } catch (SharedDirectory.NoRoomException e) {
                throw new IpcException("channel '" + name + "': " + e.getMessage(), e);
            }
            ServerChannel channel = new ServerChannel(name, settings, directory, lockPath, lockChannel, lock, file,
                    onRequest);
            channel.writeHeader();
            OPEN.add(channel);
            channel.dispatcher.start();
            LOG.log(Level.DEBUG, () -> "channel '" + name + "': listening, pid " + ProcessIdentity.current().pid());
            return channel;
        } catch (IOException | RuntimeException e) {
            if (lockChannel != null) {
                SharedDirectory.deleteQuietly(directory.channelFile(name));
                SharedDirectory.deleteQuietly(lockPath);
                closeQuietly(lockChannel);
            }
            LISTENING.remove(lockPath);
            throw e;
        }
    }

    // POSIX record locks belong to the process and vanish when it closes ANY descriptor of the file: so nothing in
    // this process may open and close a lock file it holds. The checks below use stat() on the path only.
    private static FileLock lockExclusively(String name, SharedDirectory directory, Path lockPath)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            directory.ensureExists();
            FileChannel channel;
            try {
                channel = FileChannel.open(lockPath, EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE), directory.fileAttributes());
            } catch (NoSuchFileException e) {
                if (attempt < 3) {
                    continue;
                }
                throw e;
            }
            Object openedKey = fileKey(lockPath);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                closeQuietly(channel);
                throw new IpcException("channel '" + name + "': another server is listening on it"
                        + ownerDescription(directory.channelFile(name)));
            }
            // The previous owner may have deleted the lock file between our open and our lock: then we locked an
            // orphan, and the path leads to another file (or none).
            if (openedKey != null && openedKey.equals(fileKey(lockPath))) {
                directory.applyFilePermissions(lockPath);
                return lock;
            }
            closeQuietly(channel);
            if (attempt >= 3) {
                throw new IpcException("channel '" + name + "': the lock file " + lockPath
                        + " keeps being replaced; another server is starting on this channel");
            }
        }
    }

    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static String ownerDescription(Path channelFile) {
        try (MappedFile existing = MappedFile.open(channelFile)) {
            if (existing.size() >= ChannelDescriptor.HEADER_LENGTH) {
                return " (pid " + getLongAcquire(existing.segment(), ChannelDescriptor.SERVER_PID_OFFSET) + ")";
            }
        } catch (IOException | RuntimeException ignored) {
            // no details then
        }
        return "";
    }

    /**
     * Deletes the files of a channel whose server died, if no server holds the channel's lock now. Called by a
     * client that found a channel file naming a dead process.
     *
     * @return whether stale files were removed
     */
    static boolean reclaimIfStale(String name, SharedDirectory directory) {
        Path lockPath = directory.lockFile(name);
        if (LISTENING.contains(lockPath)) {
            return false; // a server of this JVM is (re)starting on it: its lock must not be touched
        }
        try (FileChannel channel = FileChannel.open(lockPath, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return false; // a live server holds it (perhaps a new one)
            }
            try {
                reclaimStaleFiles(name, directory);
                SharedDirectory.deleteQuietly(lockPath);
            } finally {
                lock.release();
            }
        } catch (NoSuchFileException e) {
            // no lock file: only a dead server's channel file can be left
            SharedDirectory.deleteQuietly(directory.channelFile(name));
        } catch (IOException | java.nio.channels.OverlappingFileLockException e) {
            return false;
        }
        directory.deleteIfEmpty();
        return true;
    }

    /** We hold the lock: whatever files of this channel exist belong to a server that died. */
    private static void reclaimStaleFiles(String name, SharedDirectory directory) {
        if (deleteChannelFiles(name, directory)) {
            LOG.log(Level.INFO, "channel '" + name + "': reclaimed the stale files of a dead server");
        }
    }

    /**
     * Deletes the channel file and the connection files of {@code name} (not the lock file).
     *
     * @return whether there was a channel file
     */
    private static boolean deleteChannelFiles(String name, SharedDirectory directory) {
        boolean existed = Files.exists(directory.channelFile(name));
        SharedDirectory.deleteQuietly(directory.channelFile(name));
        try {
            for (Path connection : directory.connectionFiles(name)) {
                SharedDirectory.deleteQuietly(connection);
            }
        } catch (IOException ignored) {
            // best effort: what is left is reclaimed by the next listen
        }
        return existed;
    }

    private void writeHeader() {
        ProcessIdentity self = ProcessIdentity.current();
        setLongPlain(header, ChannelDescriptor.MAGIC_OFFSET, ChannelDescriptor.MAGIC);
        setIntPlain(header, ChannelDescriptor.HEADER_LENGTH_OFFSET, ChannelDescriptor.HEADER_LENGTH);
        setIntPlain(header, ChannelDescriptor.RING_CAPACITY_OFFSET, settings.ringCapacity());
        setIntPlain(header, ChannelDescriptor.MAX_CONNECTIONS_OFFSET, settings.maxConnections());
        setLongPlain(header, ChannelDescriptor.MAX_REQUEST_BYTES_OFFSET, settings.maxRequestBytes());
        setLongPlain(header, ChannelDescriptor.SERVER_PID_OFFSET, self.pid());
        setLongPlain(header, ChannelDescriptor.SERVER_START_TIME_OFFSET, self.startMillis());
        setLongPlain(header, ChannelDescriptor.NONCE_OFFSET, ThreadLocalRandom.current().nextLong());
        setIntPlain(header, ChannelDescriptor.STATE_OFFSET, ChannelDescriptor.STATE_OPEN);
        // the version last: a reader that sees it sees everything above
        setIntRelease(header, ChannelDescriptor.LAYOUT_VERSION_OFFSET, ChannelDescriptor.LAYOUT_VERSION);
    }

    public String name() {
        return name;
    }

    ChannelSettings settings() {
        return settings;
    }

    SharedDirectory directory() {
        return directory;
    }

    MemorySegment header() {
        return header;
    }

    Signal doorbell() {
        return doorbell;
    }

    /** Connections open now. */
    public int connectionCount() {
        return connectionCount;
    }

    void dispatch(ServerExchange exchange) {
        onRequest.accept(exchange);
    }

    // ------------------------------------------------------------------------------------------ dispatcher thread

    private void run() {
        SignalWaiter waiter = new SignalWaiter(doorbell, settings.spinCount(), settings.yieldCount(),
                UNCONNECTED_SLEEP_NANOS);
        // a dead client whose connection is idle only holds it a little longer: looked for once a second then
        LivenessSchedule liveness = new LivenessSchedule();
        long untilLivenessCheck = LivenessSchedule.BUSY_PERIOD_NANOS; // as of the last clock reading
        CoreTurn turn = new CoreTurn();
        try {
            while (!stopping) {
                int work = acceptPending();
                boolean handlersWorking = false;
                boolean skipSpinning = false;
                for (int i = 0; i < connections.size(); i++) {
                    ServerConnection connection = connections.get(i);
                    work += connection.poll();
                    handlersWorking |= connection.hasOpenExchanges();
                    skipSpinning |= connection.isBlocked() || connection.hasNextPoller();
                    if (connection.isClosed()) {
                        connections.remove(i--);
                        connectionCount = connections.size();
                    }
                }
                if (work > 0 || waiter.isClockDue()) {
                    long now = System.nanoTime();
                    // busy (inline handlers answering clients that call in loops), this thread need never block:
                    // while the cores are contended, other threads have its core in turn
                    turn.yieldIfOver(now);
                    if (liveness.due(now, handlersWorking)) {
                        for (ServerConnection connection : connections) {
                            connection.checkClientAlive();
                        }
                        reclaimAbandonedSlots(now);
                    }
                    untilLivenessCheck = liveness.untilNext(now, handlersWorking);
                }
                if (work > 0) {
                    waiter.reset();
                } else {
                    if (skipSpinning) {
                        // a request stream waits for its handler, which rings when it has read: spinning would take
                        // the core the handler needs (on 2 cores, streams ran at 1.5-2 GB/s instead of 5-10); or a
                        // handler's thread polls for its connection's next request, in this thread's stead
                        waiter.skipSpinning();
                    }
                    waiter.idle(handlersWorking, connections.isEmpty() ? UNCONNECTED_SLEEP_NANOS
                            : untilLivenessCheck);
                }
            }
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "channel '" + name + "': dispatcher failed", t);
        } finally {
            waiter.reset();
            waiter.stopSpinning();
            for (ServerConnection connection : connections) {
                connection.close("the server closed the channel", Level.DEBUG);
            }
            connections.clear();
            connectionCount = 0;
        }
    }

    private int acceptPending() {
        long sequence = getLongAcquire(header, ChannelDescriptor.CONNECT_SEQUENCE_OFFSET);
        if (sequence == lastConnectSequence) {
            return 0;
        }
        lastConnectSequence = sequence;
        int accepted = 0;
        for (int slot = 0; slot < settings.maxConnections(); slot++) {
            long at = ChannelDescriptor.slotOffset(slot);
            if (getIntAcquire(header, at + ChannelDescriptor.SLOT_STATE_OFFSET) != ChannelDescriptor.SLOT_PENDING) {
                continue;
            }
            long connectionId = getLongPlain(header, at + ChannelDescriptor.SLOT_CONNECTION_ID_OFFSET);
            try {
                ServerConnection connection = ServerConnection.accept(this, slot, connectionId);
                setIntRelease(header, at + ChannelDescriptor.SLOT_STATE_OFFSET, ChannelDescriptor.SLOT_ACCEPTED);
                connections.add(connection);
                connectionCount = connections.size();
                accepted++;
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "channel '" + name + "': refused connection "
                        + SharedDirectory.connectionIdText(connectionId) + ": " + e.getMessage());
                setIntRelease(header, at + ChannelDescriptor.SLOT_STATE_OFFSET, ChannelDescriptor.SLOT_FREE);
            }
        }
        return accepted;
    }

    /**
     * A client that dies between claiming a slot and publishing it would hold the slot forever. A slot CLAIMED for
     * longer than the grace time is freed if the pid in its connection id (high 32 bits) is gone, or no id was
     * written at all.
     */
    private void reclaimAbandonedSlots(long now) {
        if (claimedSince == null) {
            claimedSince = new long[settings.maxConnections()];
        }
        for (int slot = 0; slot < claimedSince.length; slot++) {
            long at = ChannelDescriptor.slotOffset(slot);
            if (getIntAcquire(header, at + ChannelDescriptor.SLOT_STATE_OFFSET) != ChannelDescriptor.SLOT_CLAIMED) {
                claimedSince[slot] = 0;
                continue;
            }
            if (claimedSince[slot] == 0) {
                claimedSince[slot] = now;
                continue;
            }
            if (now - claimedSince[slot] < CLAIM_GRACE_NANOS) {
                continue;
            }
            long pid = getLongAcquire(header, at + ChannelDescriptor.SLOT_CONNECTION_ID_OFFSET) >>> 32;
            if (pid == 0 || ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                if (compareAndSetInt(header, at + ChannelDescriptor.SLOT_STATE_OFFSET, ChannelDescriptor.SLOT_CLAIMED,
                        ChannelDescriptor.SLOT_FREE)) {
                    LOG.log(Level.INFO, "channel '" + name + "': freed slot " + slot + ", claimed by pid " + pid
                            + " which is gone");
                }
                claimedSince[slot] = 0;
            }
        }
    }

    void freeSlot(int slot) {
        setIntRelease(header, ChannelDescriptor.slotOffset(slot) + ChannelDescriptor.SLOT_STATE_OFFSET,
                ChannelDescriptor.SLOT_FREE);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        setIntRelease(header, ChannelDescriptor.STATE_OFFSET, ChannelDescriptor.STATE_CLOSED);
        stopping = true;
        doorbell.wakeAll();
        boolean interrupted = false;
        while (dispatcher.isAlive()) {
            try {
                dispatcher.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        deleteFiles();
        OPEN.remove(this);
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(lockChannel);
        file.close();
        LISTENING.remove(lockPath);
        LOG.log(Level.DEBUG, () -> "channel '" + name + "': closed");
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes this channel's files (its clients see it closed, or its pid gone, and stop). */
    private void deleteFiles() {
        try {
            setIntRelease(header, ChannelDescriptor.STATE_OFFSET, ChannelDescriptor.STATE_CLOSED);
        } catch (IllegalStateException ignored) {
            // unmapped already
        }
        deleteChannelFiles(name, directory);
        SharedDirectory.deleteQuietly(lockPath);
        directory.deleteIfEmpty();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
