/**
 * Messages exchanged between gateways and workers through Redis: commands
 * ({@link io.stopline.protocol.StartRun}, {@link io.stopline.protocol.StopRun}) and
 * events ({@link io.stopline.protocol.RunEvent}), and the entries of a conversation's
 * history ({@link io.stopline.protocol.HistoryMessage}). Depends on no implementation
 * package.
 */
@NullMarked
package io.stopline.protocol;

import org.jspecify.annotations.NullMarked;
