package ipc.connect;

import ipc.connect.internal.connection.ConnectionDescriptor;
import ipc.connect.internal.memory.SharedAccess;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/** The files of a channel base name in a factory's folder. */
final class ChannelFiles {
    private ChannelFiles() {
    }

    /** The connection files of channel {@code channel}. */
    static List<Path> connections(IpcChannelFactory factory, String channel) {
        return of(factory, channel).stream().filter(p -> p.getFileName().toString().endsWith(".conn")).toList();
    }

    /** The header of the first connection file of {@code channel}, mapped read-only in {@code arena}. */
    static MemorySegment connectionHeader(IpcChannelFactory factory, String channel, Arena arena) throws IOException {
        try (FileChannel file = FileChannel.open(connections(factory, channel).getFirst(), StandardOpenOption.READ)) {
            return file.map(FileChannel.MapMode.READ_ONLY, 0, ConnectionDescriptor.HEADER_LENGTH, arena);
        }
    }

    /** How many of the server's threads count as polling the connection of {@code header}. */
    static int serverPollers(MemorySegment header) {
        return SharedAccess.getIntVolatile(header, ConnectionDescriptor.SERVER_POLLERS_OFFSET);
    }

    /**
     * Waits up to {@code within} for the count of {@link #serverPollers} to fall to zero (a thread gives its count
     * back a moment after it stops); returns the count then, for the caller to assert.
     */
    static int serverPollersOnceZero(MemorySegment header, Duration within) throws InterruptedException {
        long until = System.nanoTime() + within.toNanos();
        while (serverPollers(header) != 0 && System.nanoTime() - until < 0) {
            Thread.sleep(5);
        }
        return serverPollers(header);
    }

    static List<Path> of(IpcChannelFactory factory, String base) {
        try (Stream<Path> files = Files.list(factory.directory())) {
            return files.filter(p -> p.getFileName().toString().startsWith(base + ".")).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new AssertionError("cannot list " + factory.directory(), e);
        }
    }
}
