package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pipelined requests: many in flight per client, answered in whatever order the server finishes them. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AsyncTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final IpcChannelFactory FACTORY = new IpcChannelFactory();
    @RegisterExtension
    static final ServerProcess SERVER = new ServerProcess("async");

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void tenThousandInFlightEachGetsItsOwnAnswer() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("bytes"))) {
            List<CompletableFuture<String>> answers = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                answers.add(client.sendAsync(IpcData.of(utf8("request " + i)), TIMEOUT).thenApply(AsyncTest::text));
            }
            for (int i = 0; i < answers.size(); i++) {
                assertEquals("request " + i, answers.get(i).get(60, TimeUnit.SECONDS));
            }
        }
        // each answered request's timeout timer was cancelled, not kept for its 30 seconds (memory at high rates)
        long pending = java.util.concurrent.ForkJoinPool.commonPool().getDelayedTaskCount();
        assertTrue(pending < 100, pending + " timers still pending after 10,000 answers");
    }

    @Test
    void answersArriveInTheOrderTheServerFinishes() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("slow"))) {
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (String delay : List.of("900", "0", "450")) {
                done.add(client.sendAsync(IpcData.of(utf8(delay)), TIMEOUT).thenApply(AsyncTest::text)
                        .thenAccept(order::add));
            }
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            assertEquals(List.of("late 0", "late 450", "late 900"), List.copyOf(order));
        }
    }

    @Test
    void answersInFlightArriveWhileCallersPollAfterIdleSpells() throws Exception {
        // After an idle spell the client's reader sleeps in the kernel, and a caller of send polls in its stead: the
        // server then writes without waking the reader. Answers to the requests in flight must arrive all the same,
        // read by the polling caller, or by the reader once the caller hands over.
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("slow"))) {
            List<CompletableFuture<String>> inFlight = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                inFlight.add(client.sendAsync(IpcData.of(utf8(String.valueOf(25 * i))), TIMEOUT)
                        .thenApply(AsyncTest::text));
            }
            for (int i = 0; i < 40; i++) {
                Thread.sleep(20); // long enough for the reader to sleep in the kernel
                assertEquals("late 0", text(client.send(IpcData.of(utf8("0")), TIMEOUT)));
            }
            for (int i = 0; i < inFlight.size(); i++) {
                // well before the 30 s timeout, at which the reader would find a frame it was not woken for
                assertEquals("late " + 25 * i, inFlight.get(i).get(5, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void streamsInFlightTogether() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("echo"))) {
            List<CompletableFuture<InputStream>> responses = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                responses.add(client.sendAsync(IpcData.of(Pattern.stream(3L << 20)), TIMEOUT));
            }
            for (CompletableFuture<InputStream> response : responses) {
                try (InputStream in = response.get(60, TimeUnit.SECONDS)) {
                    assertEquals(3L << 20, Pattern.verify(in, new byte[8192]));
                }
            }
        }
    }

    /**
     * An async call right after a plain send is answered once the server answers: the reader, parked a while after
     * callers that polled for their own responses, is woken for it. Such a call used to wait for the reader's period
     * (100 ms) unless its deadline was the earliest watched: 200 pairs took 7.5-9.4 s, about half of the calls 50 ms
     * or more.
     */
    @Test
    void anAsyncCallRightAfterASendDoesNotWaitForTheReadersPeriod() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("bytes"))) {
            int slow = 0;
            for (int i = 0; i < 200; i++) {
                assertEquals("sync " + i, new String(client.sendAndReceive(utf8("sync " + i), TIMEOUT),
                        StandardCharsets.UTF_8));
                long start = System.nanoTime();
                assertEquals("async " + i, text(client.sendAsync(IpcData.of(utf8("async " + i)), TIMEOUT)
                        .get(30, TimeUnit.SECONDS)));
                if (System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(50)) {
                    slow++;
                }
            }
            assertTrue(slow < 20, slow + " of 200 async calls took 50 ms or more");
        }
    }

    @Test
    void anAsyncTimeoutIsAnIpcTimeoutAndLeavesTheClientUsable() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("slow"))) {
            CompletableFuture<InputStream> slow = client.sendAsync(IpcData.of(utf8("2000")), Duration.ofMillis(200));
            ExecutionException e = assertThrows(ExecutionException.class, () -> slow.get(30, TimeUnit.SECONDS));
            assertInstanceOf(IpcTimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("200 ms"), e.getCause().getMessage());
            assertArrayEquals(utf8("late 1"), client.sendAndReceive(utf8("1"), TIMEOUT));
        }
    }

    /** The reader watches the earliest deadline: one that comes before those already watched is seen too. */
    @Test
    void aLaterRequestWithAShorterTimeoutTimesOutFirst() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("slow"))) {
            CompletableFuture<InputStream> patient = client.sendAsync(IpcData.of(utf8("5000")),
                    Duration.ofMillis(2500));
            CompletableFuture<InputStream> hasty = client.sendAsync(IpcData.of(utf8("5000")), Duration.ofMillis(200));
            ExecutionException e = assertThrows(ExecutionException.class, () -> hasty.get(30, TimeUnit.SECONDS));
            assertInstanceOf(IpcTimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("200 ms"), e.getCause().getMessage());
            assertFalse(patient.isDone(), "the 2,500 ms request still waits when the 200 ms one has timed out");
            e = assertThrows(ExecutionException.class, () -> patient.get(30, TimeUnit.SECONDS));
            assertInstanceOf(IpcTimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("2500 ms"), e.getCause().getMessage());
        }
    }

    @Test
    void futuresCompleteOnTheGivenExecutor() throws Exception {
        java.util.concurrent.ExecutorService mine = java.util.concurrent.Executors.newSingleThreadExecutor(
                task -> new Thread(task, "test-completions"));
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("bytes"))) {
            // the future completes in a task run by the executor (a dependent added after that runs on the thread
            // that adds it, as with any CompletableFuture: the thread that completed it is seen in the task)
            List<String> completedOn = java.util.Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<InputStream> response = client.sendAsync(IpcData.of(utf8("where")), TIMEOUT,
                    task -> mine.execute(() -> {
                        task.run();
                        completedOn.add(Thread.currentThread().getName());
                    }));
            assertEquals("where", text(response.get(30, TimeUnit.SECONDS)));
            mine.submit(() -> { }).get(30, TimeUnit.SECONDS); // the completing task has finished
            assertEquals(List.of("test-completions"), completedOn);
            // directly on the thread that delivers each response: all answered, each with its own body
            List<CompletableFuture<String>> answers = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                answers.add(client.sendAsync(IpcData.of(utf8("direct " + i)), TIMEOUT, Runnable::run)
                        .thenApply(AsyncTest::text));
            }
            for (int i = 0; i < answers.size(); i++) {
                assertEquals("direct " + i, answers.get(i).get(60, TimeUnit.SECONDS));
            }
        } finally {
            mine.shutdownNow();
            assertTrue(mine.awaitTermination(10, TimeUnit.SECONDS));
        }
        try (IpcClient slow = new IpcClient(FACTORY, SERVER.channel("slow"))) {
            CompletableFuture<InputStream> late = slow.sendAsync(IpcData.of(utf8("2000")), Duration.ofMillis(100),
                    Runnable::run);
            ExecutionException e = assertThrows(ExecutionException.class, () -> late.get(30, TimeUnit.SECONDS));
            assertInstanceOf(IpcTimeoutException.class, e.getCause(), "a direct future times out too");
        }
    }

    /**
     * A sender that pipelines reads the responses after one send in a few, leaving the others for its next read
     * ({@code ReadCadence}). Through windows of requests in flight that are wide, then narrow (a window it learnt
     * no longer bounds what it leaves), then completed on virtual threads, every request gets its own answer, and
     * none waits for its timeout: a response left behind is read by a later read, or by the connection's reader.
     */
    @Test
    void pipelinesThroughWideThenNarrowWindowsLoseNoAnswer() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("bytes"))) {
            pipeline(client, 256, 20_000, Runnable::run);
            pipeline(client, 4, 5_000, Runnable::run);
            pipeline(client, 64, 5_000, null);
        }
    }

    /** Sends {@code requests} with at most {@code window} in flight, each checked against its own answer. */
    private static void pipeline(IpcClient client, int window, int requests, java.util.concurrent.Executor completions)
            throws Exception {
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(window);
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < requests; i++) {
            assertTrue(inFlight.tryAcquire(30, TimeUnit.SECONDS), "window " + window + ": no answer freed a place"
                    + " in 30 s, at request " + i);
            String request = "window " + window + " request " + i;
            CompletableFuture<InputStream> response = completions == null
                    ? client.sendAsync(IpcData.of(utf8(request)), TIMEOUT)
                    : client.sendAsync(IpcData.of(utf8(request)), TIMEOUT, completions);
            response.whenComplete((in, failure) -> {
                String answer = failure != null ? failure.toString() : text(in);
                if (!answer.equals(request)) {
                    wrong.add(request + " answered " + answer);
                }
                inFlight.release();
            });
        }
        assertTrue(inFlight.tryAcquire(window, 30, TimeUnit.SECONDS), "window " + window + ": answers missing");
        assertEquals(List.of(), List.copyOf(wrong));
    }

    /** A direct completion that sends again runs inside a read of the responses: the nested send must not read. */
    @Test
    void directCompletionsMaySendAgain() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("bytes"))) {
            CompletableFuture<String> last = new CompletableFuture<>();
            chain(client, 0, 500, last);
            assertEquals("link 499", last.get(60, TimeUnit.SECONDS));
        }
    }

    /**
     * A completion run directly by the client's reader may close its client: the close returns (it used to wait for
     * the reader, its own thread, forever), the client refuses further calls, and its reader thread ends.
     */
    @Test
    void aDirectCompletionMayCloseItsClient() throws Exception {
        IpcClient client = new IpcClient(FACTORY, SERVER.channel("slow"));
        CompletableFuture<String> closedBy = new CompletableFuture<>();
        // answered 20 ms later: delivered by the reader, not by this thread as it sends
        client.sendAsync(IpcData.of(utf8("20")), TIMEOUT, Runnable::run).whenComplete((response, e) -> {
            client.close();
            closedBy.complete(Thread.currentThread().getName());
        });
        String thread = closedBy.get(10, TimeUnit.SECONDS);
        assertTrue(thread.startsWith("ipc-connect-client-"), "closed on " + thread + ", not on the reader");
        assertThrows(IpcClosedException.class, () -> client.send(IpcData.empty(), TIMEOUT));
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); ; ) {
            boolean readerAlive = Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals(thread));
            if (!readerAlive) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "the reader " + thread + " still runs 10 s after the close");
            Thread.sleep(10);
        }
    }

    /**
     * Futures whose actions close their client while another thread closes it too (the connection failing the
     * exchanges still pending, on the reader or on the closing thread): every close returns. The closing thread used
     * to hold the client's lock while it waited for the reader, which waited for that lock in such an action.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void actionsClosingTheirClientWhileItClosesDoNotHang() throws Exception {
        for (int round = 0; round < 100; round++) { // the race it needs comes in one run of two to five at 30
            IpcClient client = new IpcClient(FACTORY, SERVER.channel("bytes"));
            List<CompletableFuture<?>> actions = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) {
                    actions.add(client.sendAsync(IpcData.of(utf8("r" + i)), TIMEOUT, Runnable::run)
                            .whenComplete((response, e) -> client.close()));
                }
            } catch (IpcClosedException closedByAnAction) {
                // an action this thread or the reader ran closed the client already
            }
            // A thread that touches the connection's memory as another unmaps it is aborted there by the JVM, and left
            // interrupted (HotSpot interrupts a thread when it delivers such an asynchronous error): this thread may
            // be one, its sends racing the actions' closes. That is not what this test is about.
            Thread.interrupted();
            // on a thread of its own, so that a close that hangs fails the test instead of hanging it
            Thread closer = Thread.ofPlatform().daemon().name("closer-" + round).start(client::close);
            closer.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(closer.isAlive(), "round " + round + ": the client's close did not return within 10 s");
            CompletableFuture.allOf(actions.toArray(CompletableFuture[]::new)).handle((v, e) -> null)
                    .get(10, TimeUnit.SECONDS);
        }
    }

    private static void chain(IpcClient client, int link, int links, CompletableFuture<String> last) {
        try {
            client.sendAsync(IpcData.of(utf8("link " + link)), TIMEOUT, Runnable::run).whenComplete((response, e) -> {
                if (e != null) {
                    last.completeExceptionally(e);
                } else if (link + 1 == links) {
                    last.complete(text(response));
                } else {
                    text(response);
                    chain(client, link + 1, links, last);
                }
            });
        } catch (IOException e) {
            last.completeExceptionally(e);
        }
    }

    /**
     * An executor that refuses the completion (shut down) does not leave the future incomplete for ever: it completes
     * on a virtual thread instead, and so does a timeout.
     */
    @Test
    void aFutureWhoseExecutorRefusesStillCompletes() throws Exception {
        java.util.concurrent.ExecutorService shutDown = java.util.concurrent.Executors.newSingleThreadExecutor();
        shutDown.shutdown();
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("bytes"));
             IpcClient slow = new IpcClient(FACTORY, SERVER.channel("slow"))) {
            CompletableFuture<InputStream> answered = client.sendAsync(IpcData.of(utf8("x")), TIMEOUT, shutDown);
            assertEquals("x", text(answered.get(30, TimeUnit.SECONDS)));
            CompletableFuture<InputStream> late = slow.sendAsync(IpcData.of(utf8("2000")), Duration.ofMillis(200),
                    shutDown);
            ExecutionException e = assertThrows(ExecutionException.class, () -> late.get(30, TimeUnit.SECONDS));
            assertInstanceOf(IpcTimeoutException.class, e.getCause());
            assertArrayEquals(utf8("y"), client.sendAndReceive(utf8("y"), TIMEOUT), "still usable");
        }
    }

    @Test
    void aFailureArrivesThroughTheFuture() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("fail"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> client.sendAsync(IpcData.of(utf8("no"))).get(30, TimeUnit.SECONDS));
            IpcRemoteException remote = assertInstanceOf(IpcRemoteException.class, e.getCause());
            assertEquals("refused: no", remote.remoteMessage());
        }
    }
}
