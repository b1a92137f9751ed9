package ipc.connect.internal.memory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A file mapped read-write into a shared {@link Arena}: the segment may be used by any thread of this process and
 * is shared with every process that maps the same file.
 *
 * <p>{@link #close()} unmaps the file (idempotent), once no thread is in a system call on it. A thread still
 * accessing the segment then gets an {@link IllegalStateException} from the Foreign Memory API, never a crash.
 * Closing does not delete the file.
 */
public final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;
    /** How long {@link #close()} waits for a system call on the mapping to return. */
    static final long CLOSE_PATIENCE_MILLIS = 2_000;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    /**
     * Creates a new file of {@code size} zero bytes with the given permissions and maps it.
     *
     * @throws java.nio.file.FileAlreadyExistsException if the file exists
     */
    public static MappedFile create(Path path, long size, FileAttribute<?>... attributes) throws IOException {
        if (size <= 0) {
            throw new IllegalArgumentException("size <= 0: " + size);
        }
        try (FileChannel channel = FileChannel.open(path,
                EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE),
                attributes)) {
            try {
                // Write every byte, so a full file system (a full /dev/shm in a container) fails here with an
                // IOException instead of later with SIGBUS when a sparse page is first touched through the mapping.
                ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(size, 64 * 1024));
                for (long position = 0; position < size; ) {
                    zeros.clear().limit((int) Math.min(zeros.capacity(), size - position));
                    position += channel.write(zeros, position);
                }
                return map(path, channel, size);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(path);
                throw new IOException("cannot create " + size + " bytes at " + path + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Maps an existing file whole.
     *
     * @throws NoSuchFileException if there is no such file
     */
    public static MappedFile open(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return map(path, channel, channel.size());
        }
    }

    private static MappedFile map(Path path, FileChannel channel, long size) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            return new MappedFile(path, arena, segment);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long size() {
        return segment.byteSize();
    }

    /**
     * Unmaps the file. A thread may be in a system call on a word of the mapping (a futex wake, which returns at once,
     * or a wait, which returns by its timeout): the arena refuses to close while one is, so this waits for it.
     *
     * @throws IllegalStateException if the mapping is still in such a call after {@value #CLOSE_PATIENCE_MILLIS} ms
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_PATIENCE_MILLIS);
        while (true) {
            try {
                arena.close();
                return;
            } catch (IllegalStateException inUse) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new IllegalStateException("cannot unmap " + path + ": still in use after "
                            + CLOSE_PATIENCE_MILLIS + " ms (" + inUse.getMessage() + ")", inUse);
                }
                LockSupport.parkNanos(20_000);
            }
        }
    }
}
