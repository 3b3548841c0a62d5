/**
 * Agents' tools over MCP: the servers an agent may use, the tool loop between the model
 * and the servers, and the cancellation of tool calls in flight when a run stops.
 */
@NullMarked
package io.stopline.worker.tool;

import org.jspecify.annotations.NullMarked;
