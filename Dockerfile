# syntax=docker/dockerfile:1
# One build for both images: docker build --target gateway . / docker build --target worker .
# It builds exactly what CI builds (./mvnw package), without the tests (CI runs them).
FROM eclipse-temurin:21-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY stopline-testing/pom.xml stopline-testing/
COPY stopline-core/pom.xml stopline-core/
COPY stopline-spring-boot-starter/pom.xml stopline-spring-boot-starter/
COPY worker/pom.xml worker/
COPY gateway/pom.xml gateway/
COPY integration-tests/pom.xml integration-tests/
COPY benchmark/pom.xml benchmark/
COPY examples/chat-app/pom.xml examples/chat-app/
RUN ./mvnw -B -ntp -q -pl stopline-core,worker,gateway -am dependency:go-offline -DexcludeReactor=true || true
# the test fixtures are a test-scope dependency of the nodes: the reactor needs them even with -DskipTests
COPY stopline-testing stopline-testing
COPY stopline-core stopline-core
COPY stopline-spring-boot-starter stopline-spring-boot-starter
COPY worker worker
COPY gateway gateway
RUN ./mvnw -B -ntp -q -pl stopline-core,worker,gateway -am package -DskipTests

FROM eclipse-temurin:21-jre AS runtime
RUN groupadd --system --gid 10001 stopline && useradd --system --uid 10001 --gid stopline stopline
WORKDIR /app
USER stopline
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75"

FROM runtime AS gateway
COPY --from=build --chown=stopline:stopline /src/gateway/target/gateway-*-exec.jar /app/app.jar
# 8080: page and API; 9080: actuator (management port, keep it inside the deployment)
EXPOSE 8080 9080
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '\"UP\"' <&3"]
ENTRYPOINT ["java", "-jar", "/app/app.jar"]

FROM runtime AS worker
COPY --from=build --chown=stopline:stopline /src/worker/target/worker-*-exec.jar /app/app.jar
EXPOSE 8081
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8081 && printf 'GET /actuator/health/readiness HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '\"UP\"' <&3"]
ENTRYPOINT ["java", "-jar", "/app/app.jar"]
