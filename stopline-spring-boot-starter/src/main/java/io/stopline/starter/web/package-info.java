/** The optional stop endpoints, behind the application's own security. */
@NullMarked
package io.stopline.starter.web;

import org.jspecify.annotations.NullMarked;
