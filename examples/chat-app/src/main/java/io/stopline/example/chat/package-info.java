/** An example chat application on the Stopline starter. */
@NullMarked
package io.stopline.example.chat;

import org.jspecify.annotations.NullMarked;
