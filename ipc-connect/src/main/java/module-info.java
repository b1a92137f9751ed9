/**
 * Ipc.Connect: request/response communication between processes of one machine over shared memory.
 *
 * <p>Only {@code ipc.connect} is exported; everything under {@code ipc.connect.internal} is an implementation
 * detail. The signal layer calls the operating system through the Foreign Function &amp; Memory API, so an
 * application should grant native access to this module ({@code --enable-native-access=ipc.connect}, or
 * {@code ALL-UNNAMED} on the class path, or {@code Enable-Native-Access} in an executable jar's manifest).
 */
module ipc.connect {
    exports ipc.connect;
}
