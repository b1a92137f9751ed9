package ipc.connect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
