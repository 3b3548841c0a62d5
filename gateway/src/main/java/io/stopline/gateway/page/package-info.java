/**
 * What the web page needs from the gateway besides the API it shares with every client.
 */
@NullMarked
package io.stopline.gateway.page;

import org.jspecify.annotations.NullMarked;
