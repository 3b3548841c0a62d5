package io.stopline.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;

/**
 * The load generator's own collector pauses. Every latency the clients measure includes
 * them: a client paused for 100 ms reports 100 ms more for whatever it was waiting for.
 * Each step reports them beside its figures ({@code load_generator_gc}), so a tail the
 * nodes did not cause shows as such. The JVM reports each in whole milliseconds: a pause
 * under 1 ms counts as 0.
 */
final class OwnPauses implements AutoCloseable {

	private final Latencies pauses = new Latencies();

	private final NotificationListener listener = (notification, handback) -> {
		if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
			GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo
				.from((CompositeData) notification.getUserData());
			// a concurrent collector's cycles run beside the application: only pauses
			// stop the clients
			if (!info.getGcName().contains("Cycles") && !info.getGcName().contains("Concurrent")) {
				pauses.add(info.getGcInfo().getDuration() * 1_000_000);
			}
		}
	};

	OwnPauses() {
		for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
			((NotificationEmitter) bean).addNotificationListener(listener, null, null);
		}
	}

	/** Count, total and longest pause since this was opened (ms). */
	Map<String, Object> summary() {
		Map<String, Object> summary = new LinkedHashMap<>();
		summary.put("pauses", pauses.size());
		summary.put("total_ms", Latencies.round(pauses.size() == 0 ? 0 : pauses.meanMs() * pauses.size()));
		summary.put("max_ms", pauses.size() == 0 ? 0 : Latencies.round(pauses.ms(1.0)));
		return summary;
	}

	@Override
	public void close() {
		for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
			try {
				((NotificationEmitter) bean).removeNotificationListener(listener);
			}
			catch (javax.management.ListenerNotFoundException ex) {
				// not added there
			}
		}
	}

}
