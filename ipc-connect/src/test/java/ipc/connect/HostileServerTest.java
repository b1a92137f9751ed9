package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.internal.connection.ConnectionDescriptor;
import ipc.connect.internal.memory.MappedFile;
import ipc.connect.internal.memory.SharedAccess;
import ipc.connect.internal.ring.RingDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * A hostile server: while the real handler stalls, random bytes, records and positions land in the response ring
 * of a waiting client. The client's call ends (a response, or an exception of our family) and never hangs.
 */
class HostileServerTest {
    private static final AtomicInteger OUTCOMES_FAILED = new AtomicInteger();
    private static final AtomicInteger TRIES = new AtomicInteger();

    @Provide
    Arbitrary<byte[]> garbage() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(300);
    }

    @AfterContainer
    static void report() {
        System.out.println("hostile server: " + TRIES.get() + " cases, " + OUTCOMES_FAILED.get()
                + " calls failed with an IpcException, none with anything else, none hung");
    }

    @Property(tries = 60)
    void theClientSurvivesAnythingWrittenIntoItsResponseRing(
            @ForAll @IntRange(min = 0, max = 2) int attack, @ForAll("garbage") byte[] bytes,
            @ForAll @IntRange(min = -3, max = 12) int type, @ForAll long requestId, @ForAll int word)
            throws Exception {
        TRIES.incrementAndGet();
        Path root = Files.createTempDirectory("ipc-hostile-server");
        Path directory = root.resolve("shm");
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(directory).build();
        String channel = TestProcesses.uniqueChannel("hostile-server");
        CountDownLatch release = new CountDownLatch(1);
        try (IpcServer server = new IpcServer(factory);
             IpcClient client = new IpcClient(factory, channel)) {
            server.listen(channel, request -> {
                release.await(30, TimeUnit.SECONDS); // never writes while the test does
                return IpcData.empty();
            });
            CompletableFuture<Object> call = CompletableFuture.supplyAsync(() -> {
                try (var response = client.send(IpcData.of(new byte[] {1}), Duration.ofMillis(500))) {
                    return response.readAllBytes();
                } catch (Throwable t) {
                    return t;
                }
            });
            List<Path> files;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            long fullLength = ConnectionDescriptor.fileLength(factory.ringCapacity());
            while (((files = ChannelFiles.connections(factory, channel)).isEmpty()
                    || Files.size(files.get(0)) < fullLength || server.connectionCount(channel) == 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(1); // until the client has written its file and the server accepted it
            }
            assertEquals(1, files.size());
            try (MappedFile file = MappedFile.open(files.get(0))) {
                MemorySegment segment = file.segment();
                long ring = ConnectionDescriptor.responseRingOffset(factory.ringCapacity());
                long data = ring + RingDescriptor.HEADER_LENGTH;
                switch (attack) {
                    case 0 -> {
                        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, data, bytes.length);
                        SharedAccess.setLongRelease(segment, ring + RingDescriptor.TAIL_POSITION_OFFSET,
                                Math.max(8, (bytes.length + 7) & ~7));
                    }
                    case 1 -> {
                        segment.set(ValueLayout.JAVA_INT, data, 16 + bytes.length);
                        segment.set(ValueLayout.JAVA_INT, data + 4, type);
                        segment.set(ValueLayout.JAVA_LONG, data + 8, requestId % 3); // often a real id (1)
                        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, data + 16, bytes.length);
                        SharedAccess.setLongRelease(segment, ring + RingDescriptor.TAIL_POSITION_OFFSET,
                                (16 + bytes.length + 7) & ~7);
                    }
                    default -> SharedAccess.setLongRelease(segment, ring + RingDescriptor.TAIL_POSITION_OFFSET,
                            word);
                }
            }
            Object outcome;
            try {
                outcome = call.get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                outcome = e.getCause();
            }
            if (outcome instanceof Throwable t) {
                assertTrue(t instanceof IpcException, () -> "escaped our family: " + t);
                OUTCOMES_FAILED.incrementAndGet();
            }
            release.countDown();
        } finally {
            release.countDown();
            boolean folderLeft = Files.exists(directory);
            Files.delete(root);
            assertTrue(!folderLeft, "the library removes its emptied folder");
        }
    }
}
