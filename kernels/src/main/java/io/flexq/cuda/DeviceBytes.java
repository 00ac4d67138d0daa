package io.flexq.cuda;

/** A range of device memory: {@code bytes} bytes from {@code address}; {@link #NONE} is empty. */
record DeviceBytes(long address, long bytes) {

    static final DeviceBytes NONE = new DeviceBytes(0, 0);
}
