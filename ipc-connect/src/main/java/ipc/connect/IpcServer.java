package ipc.connect;

import ipc.connect.internal.connection.ServerChannel;
import ipc.connect.internal.connection.ServerExchange;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A server answering requests on one or more channels.
 *
 * <pre>{@code
 * try (IpcServer server = new IpcServer(new IpcChannelFactory())) {
 *     server.listen("MyChannelName", request -> new IpcDataBytes(request.readAllBytes()));
 *     ...
 * }
 * }</pre>
 *
 * <p>By default each request runs its handler on a virtual thread of its own, so a slow handler never delays another
 * request; see {@link #IpcServer(IpcChannelFactory, Executor)} for the alternatives. A handler's virtual thread,
 * once it has answered, watches its connection for the next request for a moment (200 µs; 1 ms while the client
 * calls at a pace under that), then dozes for it in the kernel (up to the factory's
 * {@link IpcChannelFactory.Builder#handlerDoze}, 1 s by default, while the server is otherwise idle), and handles
 * that one itself if it comes: calls that follow one another (a client calling in a loop, every few hundred
 * microseconds, or after a pause) are answered by one thread, with no thread started and woken for each. Like a pool
 * thread, such a thread carries what a handler leaves in its {@link ThreadLocal}s to the next request (remove them
 * when done, or use {@link ScopedValue}s; or pass {@code Executors.newVirtualThreadPerTaskExecutor()} for a new
 * thread per request); an interrupt is cleared.
 * A handler sees the request body while it is still arriving; the response it returns is streamed to the client.
 *
 * <p>Thread-safe. {@link #close()} stops listening, ends every connection (clients' pending calls fail with
 * {@link IpcClosedException}), waits briefly for running handlers and deletes the channel files. It is idempotent.
 */
public final class IpcServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("ipc.connect");
    private static final byte[] EMPTY = new byte[0];
    /**
     * How long a handler's virtual thread, done with its request, polls for the next request of its connection, to
     * handle it itself rather than have it dispatched to a new virtual thread.
     */
    private static final long NEXT_REQUEST_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    /**
     * How long it polls instead while the client calls at a pace under this (see
     * {@code ServerConnection.pollNext}): about as long as the dispatcher spins after a request of its own (a
     * server with {@link #DIRECT} handlers answered requests 1 ms apart at once, 2 ms apart only after a wake).
     */
    private static final long PACE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /**
     * Runs a handler on the channel's dispatcher thread, for the lowest latency, whenever the whole request has
     * arrived in its first frame (other requests still go to a virtual thread, since an inline handler could not
     * receive the rest). An inline handler delays every other request of its channel while it runs: use it only for
     * handlers that answer in microseconds and never block.
     */
    public static final Executor DIRECT = new Executor() {
        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public String toString() {
            return "IpcServer.DIRECT";
        }
    };

    private final IpcChannelFactory factory;
    private final ExecutorService virtualThreads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("ipc-connect-handler-", 0).factory());
    private final Executor handlers;
    /**
     * Handlers' virtual threads started and not yet running: while there are some, a handler's thread that polls for
     * its connection's next request stops, to give its carrier to them ({@link ServerExchange#pollNextRequest}).
     */
    private final AtomicInteger handlersStarting = new AtomicInteger();
    private final BooleanSupplier handlersWaiting = () -> handlersStarting.get() > 0;
    /** Handlers' virtual threads running ({@link #handleThenNext}): while others run, none dozes. */
    private final AtomicInteger handlersRunning = new AtomicInteger();
    private final List<ServerChannel> channels = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A server that runs each handler on a virtual thread (see above). */
    public IpcServer(IpcChannelFactory factory) {
        this(factory, null);
    }

    /**
     * A server that runs handlers with {@code handlerExecutor}: {@link #DIRECT} for inline on the dispatcher, any
     * other executor (a pool, say), or {@code null} for a virtual thread per request (see above). The executor is
     * not shut down by {@link #close()}.
     */
    public IpcServer(IpcChannelFactory factory, Executor handlerExecutor) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.handlers = handlerExecutor == null ? virtualThreads : handlerExecutor;
    }

    /**
     * Starts answering requests on {@code channelName} with {@code handler}; returns at once.
     *
     * @throws IllegalArgumentException if the name is not a valid channel name
     * @throws IpcException if another server listens on that channel, or its files cannot be created
     * @throws IllegalStateException if this server is closed
     */
    public void listen(String channelName, IpcServerRequestHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        if (closed.get()) {
            throw new IllegalStateException("server is closed");
        }
        ServerChannel channel = ServerChannel.listen(channelName, factory.settings(),
                exchange -> dispatch(handler, exchange));
        channels.add(channel);
        if (closed.get()) {
            channel.close();
            channels.remove(channel);
            throw new IllegalStateException("server is closed");
        }
    }

    /** Connections open now on {@code channelName}; 0 if this server does not listen there. */
    public int connectionCount(String channelName) {
        for (ServerChannel channel : channels) {
            if (channel.name().equals(channelName)) {
                return channel.connectionCount();
            }
        }
        return 0;
    }

    private void dispatch(IpcServerRequestHandler handler, ServerExchange exchange) {
        boolean inline = handlers == DIRECT;
        if (inline && exchange.isRequestComplete()) {
            handle(handler, exchange); // on the dispatcher, without a task object per request
            return;
        }
        // a handler's thread dozing for its connection's next request gives its carrier back to the thread started here
        ServerExchange.handlerStarting();
        try {
            if (handlers == virtualThreads) {
                handlersStarting.incrementAndGet();
                try {
                    virtualThreads.execute(() -> {
                        handlersRunning.incrementAndGet();
                        handlersStarting.decrementAndGet();
                        try {
                            handleThenNext(handler, exchange);
                        } finally {
                            handlersRunning.decrementAndGet();
                        }
                    });
                } catch (RejectedExecutionException e) {
                    handlersStarting.decrementAndGet();
                    throw e;
                }
            } else {
                (inline ? virtualThreads : handlers).execute(() -> handle(handler, exchange));
            }
        } catch (RejectedExecutionException e) {
            exchange.finish(); // closing: the connection fails the call
        }
    }

    /**
     * Handles {@code exchange}, then the requests of its connection that follow within {@link #NEXT_REQUEST_NANOS} of
     * each other ({@link #PACE_NANOS} at a client's steady pace; after a pause, up to the factory's
     * {@link IpcChannelFactory.Builder#handlerDoze} while no other handler runs), on this virtual thread, until other
     * handlers' threads wait to start (see {@link ServerExchange#pollNextRequest}).
     */
    private void handleThenNext(IpcServerRequestHandler handler, ServerExchange exchange) {
        ServerExchange next = exchange;
        try {
            while (next != null) {
                Thread.interrupted(); // an interrupt left by one handler is not the next one's
                handle(handler, next);
                next = next.pollNextRequest(NEXT_REQUEST_NANOS, PACE_NANOS,
                        handlersRunning.get() == 1 ? factory.settings().handlerDozeNanos() : 0, handlersWaiting);
            }
        } finally {
            if (next != null) {
                next.endPolling(); // failed: the connection's next request must not wait for this thread
            }
        }
    }

    private static void handle(IpcServerRequestHandler handler, ServerExchange exchange) {
        try {
            IpcData response;
            try {
                response = handler.handle(exchange.request());
                if (response == null) {
                    throw new IllegalStateException("the request handler returned null instead of an IpcData");
                }
            } catch (Throwable t) {
                LOG.log(Level.DEBUG, () -> exchange.description() + ": handler threw", t);
                exchange.respondError(t);
                return;
            }
            switch (response) {
                case IpcDataEmpty ignored -> exchange.respond(EMPTY, 0, 0);
                case IpcDataBytes bytes -> exchange.respond(bytes.array(), bytes.offset(), bytes.length());
                case IpcDataWriter writer -> exchange.respond(writer.writer());
                case IpcDataStream stream -> {
                    try {
                        exchange.respond(stream.stream());
                    } finally {
                        if (stream.closeStream()) {
                            closeQuietly(stream.stream());
                        }
                    }
                }
            }
        } catch (IOException e) {
            // the connection is gone (client closed or died): nobody is left to answer
            LOG.log(Level.DEBUG, () -> exchange.description() + ": response not delivered: " + e.getMessage());
        } catch (Error e) {
            // the response's source or writer threw an Error: the client hears of it, then it goes on up
            respondErrorQuietly(exchange, e);
            throw e;
        } finally {
            exchange.finish();
        }
    }

    private static void respondErrorQuietly(ServerExchange exchange, Throwable failure) {
        try {
            exchange.respondError(failure);
        } catch (IOException ignored) {
            // the connection is gone: nobody is left to tell
        }
    }

    private static void closeQuietly(InputStream stream) {
        try {
            stream.close();
        } catch (IOException ignored) {
            // the response was sent already
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (ServerChannel channel : channels) {
            channel.close();
        }
        channels.clear();
        virtualThreads.shutdown();
        try {
            // handlers see their request streams and response writes fail; give them a moment to return
            virtualThreads.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
