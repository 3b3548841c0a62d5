package io.stopline.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium for the browser tests (Debian's {@code chromium} and
 * {@code chromium-driver}; {@code STOPLINE_CHROMIUM} and {@code STOPLINE_CHROMEDRIVER}
 * name others), and their screenshots in {@code target/browser-screenshots}.
 */
final class HeadlessChrome {

	static final Path SCREENSHOTS = Path.of("target", "browser-screenshots");

	private HeadlessChrome() {
	}

	static ChromeDriver open(int width, int height) {
		ChromeOptions options = new ChromeOptions();
		options.setBinary(binary("STOPLINE_CHROMIUM", "/usr/bin/chromium"));
		options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
				"--window-size=" + width + "," + height, "--disable-gpu");
		ChromeDriverService service = new ChromeDriverService.Builder()
			.usingDriverExecutable(new File(binary("STOPLINE_CHROMEDRIVER", "/usr/bin/chromedriver")))
			.build();
		return new ChromeDriver(service, options);
	}

	/**
	 * Saves what the browser shows as {@code <name>.png}; a failure is printed, not
	 * thrown.
	 */
	static void screenshot(ChromeDriver browser, String name) {
		try {
			Files.createDirectories(SCREENSHOTS);
			File shot = browser.getScreenshotAs(OutputType.FILE);
			Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
		}
		catch (IOException | RuntimeException ex) {
			System.out.println("[browser] no screenshot " + name + ": " + ex);
		}
	}

	private static String binary(String env, String fallback) {
		String configured = System.getenv(env);
		return configured != null ? configured : fallback;
	}

}
