package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.internal.connection.ConnectionDescriptor;
import ipc.connect.internal.memory.MappedFile;
import ipc.connect.internal.memory.SharedAccess;
import ipc.connect.internal.ring.RingDescriptor;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A hostile client writes random records, random bytes and random header words into a live connection of a server
 * process. The server must stay up and answer everyone else; at worst it closes that one connection, with a
 * logged reason, and its standard error shows no failure outside our exception family.
 */
class HostileClientTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final IpcChannelFactory FACTORY = new IpcChannelFactory();
    private static final int CAPACITY = FACTORY.ringCapacity();
    private static final AtomicInteger CLOSED_BY_SERVER = new AtomicInteger();
    private static final AtomicInteger TRIES = new AtomicInteger();
    private static String base;
    private static Path errors;
    private static Process server;

    @BeforeContainer
    static void startServer() throws Exception {
        base = TestProcesses.uniqueChannel("hostile");
        errors = Files.createTempFile("ipc-hostile-server", ".err");
        server = TestProcesses.start(TestServerMain.class, List.of("-Xmx256m"),
                ProcessBuilder.Redirect.to(errors.toFile()), base);
    }

    @AfterContainer
    static void stopServer() throws Exception {
        try {
            assertTrue(server.isAlive(), "the server survived");
            assertEquals(0, TestProcesses.stop(server));
            String log = Files.readString(errors);
            assertFalse(log.contains("SEVERE"), log);
            assertFalse(log.contains("Exception in thread"), log);
            for (String line : log.lines().toList()) {
                if (line.contains("Exception") && !line.contains("ipc.connect")) {
                    assertTrue(line.startsWith("WARNING") || line.contains("disconnected"), "unexpected: " + line);
                }
            }
            System.out.println("hostile client: " + TRIES.get() + " cases, " + CLOSED_BY_SERVER.get()
                    + " connections closed by the server; its log has "
                    + log.lines().filter(l -> l.contains("disconnected")).count() + " disconnect reasons");
        } finally {
            TestProcesses.kill(server);
            Files.deleteIfExists(errors);
        }
        assertEquals(List.of(), ChannelFiles.of(FACTORY, base));
    }

    @Provide
    Arbitrary<byte[]> garbage() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(300);
    }

    @Property(tries = 120)
    void theServerSurvivesAnythingWrittenIntoAConnection(
            @ForAll @IntRange(min = 0, max = 3) int attack, @ForAll("garbage") byte[] bytes,
            @ForAll @IntRange(min = -5, max = 40) int type, @ForAll long requestId, @ForAll int word,
            @ForAll @IntRange(min = 0, max = 255) int headerOffset) throws Exception {
        TRIES.incrementAndGet();
        try (IpcClient victim = new IpcClient(FACTORY, base + ".bytes")) {
            assertArrayEquals(utf8("hello"), victim.sendAndReceive(utf8("hello"), TIMEOUT));
            List<Path> files = ChannelFiles.connections(FACTORY, base + ".bytes");
            assertEquals(1, files.size(), files::toString);
            try (MappedFile file = MappedFile.open(files.get(0))) {
                MemorySegment segment = file.segment();
                long ring = ConnectionDescriptor.requestRingOffset();
                long data = ring + RingDescriptor.HEADER_LENGTH;
                long tail = SharedAccess.getLongAcquire(segment, ring + RingDescriptor.TAIL_POSITION_OFFSET);
                int index = (int) (tail & (CAPACITY - 1));
                switch (attack) {
                    case 0 -> { // random bytes where the next record goes, tail moved by their length
                        int n = Math.min(bytes.length, CAPACITY - index);
                        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, data + index, n);
                        SharedAccess.setLongRelease(segment, ring + RingDescriptor.TAIL_POSITION_OFFSET,
                                tail + Math.max(8, (n + 7) & ~7));
                    }
                    case 1 -> { // a well-formed record of any type, with any request id and chunk
                        int n = Math.min(bytes.length, Math.max(0, CAPACITY - index - 16));
                        segment.set(ValueLayout.JAVA_INT, data + index, 8 + 8 + n);
                        segment.set(ValueLayout.JAVA_INT, data + index + 4, type);
                        if (n + 16 <= CAPACITY - index) {
                            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, data + index + 8, requestId);
                            MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, data + index + 16, n);
                        }
                        SharedAccess.setLongRelease(segment, ring + RingDescriptor.TAIL_POSITION_OFFSET,
                                tail + ((16 + n + 7) & ~7));
                    }
                    case 2 -> // a wild tail
                            SharedAccess.setLongRelease(segment, ring + RingDescriptor.TAIL_POSITION_OFFSET,
                                    tail + word);
                    default -> // a random word in the header (the server reads pid, state, ...)
                            segment.set(ValueLayout.JAVA_INT, headerOffset & ~3, word);
                }
                // give the dispatcher time to see it (it polls continuously, or wakes within 100 ms)
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                while (System.nanoTime() < deadline) {
                    if (SharedAccess.getIntAcquire(segment, ConnectionDescriptor.SERVER_STATE_OFFSET)
                            == ConnectionDescriptor.SERVER_CLOSED) {
                        CLOSED_BY_SERVER.incrementAndGet();
                        break;
                    }
                    Thread.sleep(5);
                }
            }
        }
        // everyone else is still served
        try (IpcClient bystander = new IpcClient(FACTORY, base + ".bytes")) {
            assertArrayEquals(utf8("still here"), bystander.sendAndReceive(utf8("still here"), TIMEOUT));
        }
    }

    /**
     * A client that keeps writing a wild head position into its response ring loses its connection as soon as the
     * server needs room there, with a logged reason; everyone else is still served.
     */
    @Example
    void aCorruptResponseHeadEndsThatConnection() throws Exception {
        try (IpcClient victim = new IpcClient(FACTORY, base + ".generate")) {
            assertEquals(10, victim.sendAndReceive(utf8("10"), TIMEOUT).length);
            List<Path> files = ChannelFiles.connections(FACTORY, base + ".generate");
            assertEquals(1, files.size(), files::toString);
            try (MappedFile file = MappedFile.open(files.get(0))) {
                MemorySegment segment = file.segment();
                long head = ConnectionDescriptor.responseRingOffset(CAPACITY) + RingDescriptor.HEAD_POSITION_OFFSET;
                AtomicBoolean hammering = new AtomicBoolean(true);
                Thread hammer = Thread.ofPlatform().start(() -> {
                    while (hammering.get()) {
                        SharedAccess.setLongRelease(segment, head, 1L << 40); // the client's reader writes it back
                        Thread.onSpinWait();
                    }
                });
                try {
                    // The server reads the head to find room once a lap of the ring. A response of four rings
                    // (about 1 ms) once came through whole: the hammer, one of four busy threads on 2 cores, was
                    // off its core at all four reads. Over 512 laps (about 1 s, were none to fail), it would have to
                    // be off its core for the whole of them.
                    assertThrows(IpcException.class,
                            () -> victim.send(IpcData.of(utf8(Long.toString(512L * CAPACITY))), TIMEOUT)
                                    .transferTo(OutputStream.nullOutputStream()));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (SharedAccess.getIntAcquire(segment, ConnectionDescriptor.SERVER_STATE_OFFSET)
                            != ConnectionDescriptor.SERVER_CLOSED && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                } finally {
                    hammering.set(false);
                    hammer.join(5_000);
                }
                assertEquals(ConnectionDescriptor.SERVER_CLOSED,
                        SharedAccess.getIntAcquire(segment, ConnectionDescriptor.SERVER_STATE_OFFSET),
                        "the server closed the connection");
            }
        }
        try (IpcClient bystander = new IpcClient(FACTORY, base + ".bytes")) {
            assertArrayEquals(utf8("still here"), bystander.sendAndReceive(utf8("still here"), TIMEOUT));
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
