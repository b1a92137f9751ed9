package ipc.connect;

import ipc.connect.internal.connection.ChannelSettings;
import ipc.connect.internal.memory.SharedDirectory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings shared by the servers and clients of a channel. A client's settings must equal its server's: a client
 * whose ring capacity or connection limit differs is refused at connect with both values named.
 *
 * <pre>{@code
 * IpcChannelFactory factory = new IpcChannelFactory();                       // defaults
 * IpcChannelFactory tuned = IpcChannelFactory.builder().ringCapacity(4 << 20).build();
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class IpcChannelFactory {
    /** Default data bytes of each of a connection's two rings: 1 MiB. */
    public static final int DEFAULT_RING_CAPACITY = 1 << 20;
    /** Default most connections per channel. */
    public static final int DEFAULT_MAX_CONNECTIONS = 128;
    /** Default time a server's idle handler thread dozes for its connection's next request: 1 s. */
    public static final Duration DEFAULT_HANDLER_DOZE = Duration.ofSeconds(1);
    /**
     * Longer durations (client timeouts, handler dozes) are cut to this: a year is "no limit" in practice, and its
     * nanoseconds fit a long.
     */
    private static final Duration LONGEST = Duration.ofDays(365);

    private final ChannelSettings settings;

    /** A factory with the default settings. */
    public IpcChannelFactory() {
        this(builder());
    }

    private IpcChannelFactory(Builder builder) {
        this.settings = new ChannelSettings(
                builder.directory != null ? builder.directory : SharedDirectory.defaultDirectory(),
                builder.ringCapacity, builder.maxConnections, builder.spinCount, builder.yieldCount,
                builder.shareWithGroup, builder.maxRequestBytes, builder.handlerDozeNanos);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Folder of the channel and connection files. */
    public Path directory() {
        return settings.directory();
    }

    /** Data bytes of each of a connection's two rings. */
    public int ringCapacity() {
        return settings.ringCapacity();
    }

    /** Most connections a server accepts on one channel. */
    public int maxConnections() {
        return settings.maxConnections();
    }

    /** Whether channel files are shared with the owner's group (0660) rather than owner-only (0600). */
    public boolean shareWithGroup() {
        return settings.groupAccess();
    }

    /** Largest request body a server built with this factory accepts. */
    public long maxRequestBytes() {
        return settings.maxRequestBytes();
    }

    /** How long a server's idle handler thread dozes for its connection's next request (see the builder's). */
    public Duration handlerDoze() {
        return Duration.ofNanos(settings.handlerDozeNanos());
    }

    ChannelSettings settings() {
        return settings;
    }

    @Override
    public String toString() {
        return "IpcChannelFactory[directory=" + settings.directory() + ", ringCapacity=" + settings.ringCapacity()
                + ", maxConnections=" + settings.maxConnections() + ", shareWithGroup=" + settings.groupAccess()
                + (settings.maxRequestBytes() == Long.MAX_VALUE ? "" : ", maxRequestBytes=" + settings.maxRequestBytes())
                + (handlerDoze().equals(DEFAULT_HANDLER_DOZE) ? "" : ", handlerDoze=" + handlerDoze()) + "]";
    }

    /** {@code duration} in nanoseconds, cut to a year ({@link #LONGEST}). */
    static long nanosUpToAYear(Duration duration) {
        return duration.compareTo(LONGEST) > 0 ? LONGEST.toNanos() : duration.toNanos();
    }

    /** Builds an {@link IpcChannelFactory}; every setting has a default. */
    public static final class Builder {
        private Path directory;
        private int ringCapacity = DEFAULT_RING_CAPACITY;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int spinCount = 20_000;
        private int yieldCount = 50;
        private boolean shareWithGroup;
        private long maxRequestBytes = Long.MAX_VALUE;
        private long handlerDozeNanos = DEFAULT_HANDLER_DOZE.toNanos();

        private Builder() {
        }

        /**
         * Folder of the channel files; default {@code /dev/shm/ipc-connect-<user>} (else under
         * {@code java.io.tmpdir}). Server and clients must use the same one.
         */
        public Builder directory(Path directory) {
            this.directory = Objects.requireNonNull(directory, "directory");
            return this;
        }

        /** Data bytes of each ring: a power of two from 4 KiB to 1 GiB; default 1 MiB. */
        public Builder ringCapacity(int ringCapacity) {
            this.ringCapacity = ringCapacity;
            return this;
        }

        /** Most connections per channel, 1 to 4096; default 128. */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        /**
         * How long an idle poller stays awake before sleeping in the kernel: {@code spins} passes with
         * {@link Thread#onSpinWait()}, then {@code yields} passes with {@link Thread#yield()}. More spinning
         * lowers latency after a pause and costs CPU while idle; defaults 20,000 and 50 (tens of microseconds).
         */
        public Builder idleSpin(int spins, int yields) {
            this.spinCount = spins;
            this.yieldCount = yields;
            return this;
        }

        /**
         * Lets processes of the owner's group (not only the owner) use the channels: folder 0770 and files 0660
         * instead of 0700 and 0600. Nothing is ever accessible to other users. Default {@code false}.
         */
        public Builder shareWithGroup(boolean shareWithGroup) {
            this.shareWithGroup = shareWithGroup;
            return this;
        }

        /**
         * Largest request body a server accepts; a larger request is refused (the client's call fails with an
         * {@link IpcRemoteException} naming the limit, the handler's request stream with an {@link IpcException}).
         * A setting of the channel: clients must use the same value. Default: no limit.
         */
        public Builder maxRequestBytes(long maxRequestBytes) {
            this.maxRequestBytes = maxRequestBytes;
            return this;
        }

        /**
         * How long a server's handler thread (on a virtual thread), once it has answered and its brief poll for its
         * connection's next request has run out, then sleeps in the kernel for that request, woken directly by the
         * client: a call after a pause is answered with no other thread woken. Such a thread keeps its carrier
         * thread meanwhile, so only one dozes at a time in a process, only while its server runs no other handler
         * and none started in the process during its poll, and never with a single carrier; it gives the carrier
         * back as soon as a server of the process starts another handler. Your own virtual threads in the server's
         * process have one carrier fewer meanwhile. {@link Duration#ZERO} turns it off. A server's setting, not checked
         * against its clients'. Default 1 s; longer durations are cut to a year.
         */
        public Builder handlerDoze(Duration handlerDoze) {
            if (handlerDoze.isNegative()) {
                throw new IllegalArgumentException("handlerDoze is negative: " + handlerDoze);
            }
            this.handlerDozeNanos = nanosUpToAYear(handlerDoze);
            return this;
        }

        /**
         * @throws IllegalArgumentException naming any setting out of range
         */
        public IpcChannelFactory build() {
            return new IpcChannelFactory(this);
        }
    }
}
