/**
 * Facts about this JVM's threads that the stop path decides by: how late the virtual
 * threads' scheduler runs a thread that became ready.
 */
@NullMarked
package io.stopline.core.threads;

import org.jspecify.annotations.NullMarked;
