// signsim from a JUnit 5 test with Testcontainers (org.testcontainers:testcontainers,
// org.testcontainers:junit-jupiter). The image is this repository's Dockerfile:
// `docker build -t signsim .`.
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

@Testcontainers
class SignsimTest {
    @Container
    static final GenericContainer<?> SIGNSIM =
            new GenericContainer<>(DockerImageName.parse("signsim:latest"))
                    .withExposedPorts(8800)
                    .withEnv("SIGNSIM_SEED", "1")
                    // Healthy once /_signsim/health answers 200 (the image's HEALTHCHECK
                    // runs `signsim healthcheck`, which checks the same).
                    .waitingFor(Wait.forHttp("/_signsim/health").forStatusCode(200));

    static String base() {
        return "http://" + SIGNSIM.getHost() + ":" + SIGNSIM.getMappedPort(8800);
    }

    @Test
    void uanatacaSaysHello() throws Exception {
        HttpResponse<String> hello = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(base() + "/uanataca/api/v1/hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, hello.statusCode());
        // Point the provider client under test at base() + "/uanataca/api/v1"; links the
        // simulator hands out name http://127.0.0.1:8800 unless SIGNSIM_PUBLIC_URL says
        // otherwise (a fixed port mapping makes that possible).
    }
}
