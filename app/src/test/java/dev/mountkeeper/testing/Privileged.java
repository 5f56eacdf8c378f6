package dev.mountkeeper.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test that mounts for real: it needs root, and a mount namespace other than the machine's own
 * (the surefire JVM wrapper provides one). Without them it skips with the reason, except under
 * CI=true, where it fails: CI must never pass by skipping the real tests.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("privileged")
@ExtendWith(PrivilegedCondition.class)
public @interface Privileged {}
