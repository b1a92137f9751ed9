package ipc.connect.internal.memory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The folder that holds a user's channel and connection files, and the names of those files:
 * <pre>
 *   &lt;dir&gt;/&lt;channel&gt;.chan               the server's channel file
 *   &lt;dir&gt;/&lt;channel&gt;.lock               held locked by the listening server
 *   &lt;dir&gt;/&lt;channel&gt;.&lt;id&gt;.conn          one per client connection (id: 16 hex digits)
 * </pre>
 * The default folder is {@code /dev/shm/ipc-connect-<user>} where {@code /dev/shm} exists, else
 * {@code <java.io.tmpdir>/ipc-connect-<user>}. The folder is created owner-only (0700) and files owner-only (0600)
 * where the file system supports POSIX permissions (0770/0660 when shared with the group); nothing is ever
 * world-accessible. An empty folder is removed again by the last one out.
 */
public final class SharedDirectory {
    /** Longest channel name, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 100;

    private static final String CHANNEL_SUFFIX = ".chan";
    private static final String LOCK_SUFFIX = ".lock";
    private static final String CONNECTION_SUFFIX = ".conn";
    private static final Pattern CONNECTION_ID = Pattern.compile("[0-9a-f]{16}");
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private final Path directory;
    private final Set<PosixFilePermission> folderPermissions;
    private final Set<PosixFilePermission> filePermissions;

    /**
     * @param groupAccess whether the owner's group may use the channels too (0770/0660) or only the owner
     *     (0700/0600)
     */
    public SharedDirectory(Path directory, boolean groupAccess) {
        this.directory = directory.toAbsolutePath().normalize();
        this.folderPermissions = PosixFilePermissions.fromString(groupAccess ? "rwxrwx---" : "rwx------");
        this.filePermissions = PosixFilePermissions.fromString(groupAccess ? "rw-rw----" : "rw-------");
    }

    /** The default folder for the current user. */
    public static Path defaultDirectory() {
        Path shm = Path.of("/dev/shm");
        Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
        return base.resolve("ipc-connect-" + user);
    }

    /**
     * Checks a channel name: 1 to {@value #MAX_NAME_BYTES} UTF-8 bytes, no path separator, no {@code ..}, no control
     * character, not starting with a dot.
     *
     * @return the name
     * @throws IllegalArgumentException naming the rule broken and the name
     */
    public static String checkChannelName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("channel name is null");
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("channel name is empty");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            throw new IllegalArgumentException(
                    "channel name is " + bytes + " bytes in UTF-8, longer than " + MAX_NAME_BYTES + ": '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == '\\') {
                throw new IllegalArgumentException("channel name contains a path separator: '" + name + "'");
            }
            if (Character.isISOControl(c)) {
                throw new IllegalArgumentException(
                        "channel name contains control character U+" + String.format("%04X", (int) c) + " at index " + i);
            }
        }
        if (name.contains("..") || name.startsWith(".")) {
            throw new IllegalArgumentException("channel name must not contain '..' nor start with '.': '" + name + "'");
        }
        return name;
    }

    public Path directory() {
        return directory;
    }

    public Path channelFile(String channel) {
        return directory.resolve(channel + CHANNEL_SUFFIX);
    }

    public Path lockFile(String channel) {
        return directory.resolve(channel + LOCK_SUFFIX);
    }

    public Path connectionFile(String channel, long connectionId) {
        return directory.resolve(channel + "." + connectionIdText(connectionId) + CONNECTION_SUFFIX);
    }

    public static String connectionIdText(long connectionId) {
        return String.format("%016x", connectionId);
    }

    /** The connection files of {@code channel} present now. */
    public List<Path> connectionFiles(String channel) throws IOException {
        List<Path> files = new ArrayList<>();
        String prefix = channel + ".";
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, prefix + "*" + CONNECTION_SUFFIX)) {
            for (Path file : stream) {
                String name = file.getFileName().toString();
                String id = name.substring(prefix.length(), name.length() - CONNECTION_SUFFIX.length());
                if (CONNECTION_ID.matcher(id).matches()) {
                    files.add(file);
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return files;
    }

    /** Creates the folder (owner-only, or owner and group) if it is missing. */
    public void ensureExists() throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        if (POSIX) {
            Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(folderPermissions));
            try {
                Files.setPosixFilePermissions(directory, folderPermissions); // the umask may have cut the mode
            } catch (IOException ignored) {
                // created by another user meanwhile: theirs to set
            }
        } else {
            Files.createDirectories(directory);
        }
    }

    /**
     * Creates and maps a new owner-only file in this folder, creating the folder first. Another process may remove
     * the folder when it empties, between our creating it and our file; that race is retried.
     */
    public MappedFile createFile(Path file, long size) throws IOException {
        for (int attempt = 1; ; attempt++) {
            ensureExists();
            try {
                MappedFile mapped = MappedFile.create(file, size, fileAttributes());
                applyFilePermissions(file);
                return mapped;
            } catch (NoSuchFileException e) {
                if (attempt == 3) {
                    throw e;
                }
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw e;
            } catch (IOException e) {
                throw new NoRoomException(file, size, e);
            }
        }
    }

    /**
     * A new file of the given size could not be written: the folder's file system is full (a small {@code /dev/shm}
     * in a container) or a file size limit applies.
     */
    public static final class NoRoomException extends IOException {
        private static final long serialVersionUID = 1L;

        NoRoomException(Path file, long size, IOException cause) {
            super("cannot write " + size + " bytes for " + file + " (" + cause.getMessage() + "): is "
                    + file.getParent() + " full? Free space there, or choose another folder with"
                    + " IpcChannelFactory.builder().directory(...) (the same on both sides)", cause);
        }
    }

    /** Sets a file of ours to the folder's file mode: the umask may have cut the mode it was created with. */
    public void applyFilePermissions(Path file) throws IOException {
        if (POSIX) {
            Files.setPosixFilePermissions(file, filePermissions);
        }
    }

    /** Removes the folder if it is empty; a folder in use by someone else is left alone. */
    public void deleteIfEmpty() {
        try {
            Files.deleteIfExists(directory);
        } catch (DirectoryNotEmptyException ignored) {
            // another channel or connection still lives here
        } catch (IOException ignored) {
            // best effort: a folder we cannot remove costs nothing
        }
    }

    /** Permissions for new files: owner (and group, if shared) read/write. */
    public FileAttribute<?>[] fileAttributes() {
        if (!POSIX) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(filePermissions)};
    }

    /** Deletes a file, ignoring a file already gone. */
    public static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort; stale files are reclaimed by the next listen
        }
    }
}
