/**
 * Bearer-token authentication: JWT validation, dev tokens, problem-detail answers for 401
 * and 403.
 */
@NullMarked
package io.stopline.gateway.auth;

import org.jspecify.annotations.NullMarked;
