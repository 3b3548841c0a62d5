package io.stopline.it;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web page in real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}, which {@code ./stopline test} installs), against a gateway and
 * two workers: send and stop, a double click sends one stop, a stop from a second tab
 * updates the first, a reload mid-run shows the stop button, stop all behind its dialog,
 * and a failed stop request shows the error and recovers. Screenshots of the key states
 * go to {@code integration-tests/target/browser-screenshots/}.
 */
class WebPageBrowserTests {

	private static final Duration BOUND = Duration.ofSeconds(15);

	// slow enough tokens that a person (or a test) can act while the answer streams
	// (admins are dev tokens with a role: allowed explicitly; no JWT in a socket's URL
	// even in dev, so the page must open its sockets with tickets)
	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(1, 2, Map.of("stopline.model.simulated.token-delay", "60ms"),
			Map.of("stopline.auth.dev-tokens.allow-roles", "true", "stopline.stream.allow-query-token", "false"));

	private ChromeDriver browser;

	private String user;

	private String testName;

	@BeforeEach
	void openBrowser(TestInfo info) {
		testName = info.getTestMethod().orElseThrow().getName();
		browser = HeadlessChrome.open(1400, 900);
		user = "page-" + UUID.randomUUID().toString().substring(0, 8);
	}

	@AfterEach
	void closeBrowser() {
		if (browser != null) {
			screenshot("last");
			browser.quit();
		}
		cluster.api(0, user).stopAll();
	}

	@Test
	void sendStreamAndStop() {
		signIn();
		send("Tell me a story");
		WebElement stop = visible(By.id("stop"));
		awaitStreamedText();
		screenshot("1-streaming");
		stop.click();

		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));
		waitFor().until(ExpectedConditions.invisibilityOfElementLocated(By.id("stop")));
		waitFor().until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#messages li.system"),
				"Conversation stopped by user."));
		assertThat(browser.findElement(By.cssSelector("#messages li.assistant .text")).getText()).isNotBlank();
		assertThat(browser.findElement(By.id("send")).isEnabled()).isTrue();
		screenshot("2-stopped");
	}

	@Test
	void aRapidDoubleClickSendsOneStop() {
		signIn();
		send("Tell me a story");
		awaitStreamedText();
		// two clicks in the same task: the second finds the stop in flight
		((JavascriptExecutor) browser)
			.executeScript("const b = document.getElementById('stop'); b.click(); b.click(); b.click();");
		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));

		Api admin = Api.forAdmin(cluster.gatewayUrl(0), "admin-" + UUID.randomUUID());
		// entries are written after the answer; a second request would have been written
		// with the first
		org.awaitility.Awaitility.await()
			.atMost(BOUND)
			.until(() -> !admin.get("/v1/admin/audit/stops?user=" + user).json().get("stops").isEmpty());
		JsonNode stops = admin.get("/v1/admin/audit/stops?user=" + user).json().get("stops");
		assertThat(stops).as("stop requests the gateway received").hasSize(1);
	}

	@Test
	void aStopFromASecondTabUpdatesTheFirst() {
		signIn();
		send("Tell me a story");
		awaitStreamedText();
		String first = browser.getWindowHandle();
		String url = browser.getCurrentUrl();

		browser.switchTo().newWindow(WindowType.TAB);
		browser.get(url);
		WebElement stopInSecond = visible(By.id("stop"));
		stopInSecond.click();
		waitFor().until(ExpectedConditions.invisibilityOfElementLocated(By.id("stop")));

		browser.switchTo().window(first);
		waitFor().until(ExpectedConditions.invisibilityOfElementLocated(By.id("stop")));
		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));
		screenshot("first-tab-after-stop-in-second");
	}

	@Test
	void aReloadMidRunShowsTheStopButton() {
		signIn();
		send("Tell me a story");
		String beforeReload = awaitStreamedText();
		browser.navigate().refresh();

		WebElement stop = visible(By.id("stop"));
		// the answer so far comes back (snapshot), and goes on from there
		waitFor().until(driver -> text().startsWith(beforeReload) && text().length() > beforeReload.length());
		screenshot("reloaded-mid-run");
		stop.click();
		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));
	}

	@Test
	void stopAllAsksForConfirmationFirst() {
		signIn();
		Api api = cluster.api(0, user);
		api.chatStream("c-" + UUID.randomUUID(), 5000);
		api.chatStream("c-" + UUID.randomUUID(), 5000);
		waitFor().until(driver -> driver.findElements(By.cssSelector("#active li")).size() == 2);

		browser.findElement(By.id("stop-all")).click();
		WebElement dialog = visible(By.id("confirm-stop-all"));
		screenshot("stop-all-dialog");
		dialog.findElement(By.cssSelector("button[value=cancel]")).click();
		assertThat(api.active().json().get("active_conversations").size()).as("cancel stops nothing").isEqualTo(2);

		browser.findElement(By.id("stop-all")).click();
		visible(By.id("confirm-ok")).click();
		waitFor().until(driver -> driver.findElements(By.cssSelector("#active li")).isEmpty());
		assertThat(api.active().json().get("active_conversations").size()).isZero();
		waitFor().until(ExpectedConditions.textToBePresentInElementLocated(By.id("active-status"), "Stopped 2"));
	}

	@Test
	void aFailedStopShowsTheErrorAndRecovers() {
		signIn();
		send("Tell me a story");
		awaitStreamedText();
		// the gateway unreachable, for stop requests only: the socket stays up
		browser.executeCdpCommand("Network.enable", Map.of());
		browser.executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of("*/stop")));

		browser.findElement(By.id("stop")).click();
		waitFor().until(
				ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "the server could not be reached"));
		WebElement stop = visible(By.id("stop"));
		assertThat(stop.getText()).isEqualTo("Stop");
		screenshot("stop-failed");

		browser.executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of()));
		stop.click();
		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));
		waitFor().until(ExpectedConditions.invisibilityOfElementLocated(By.id("stop")));
	}

	@Test
	void sendAndStopWorkFromTheKeyboardWithVisibleFocusAndNamedButtons() {
		signIn();
		WebElement prompt = browser.findElement(By.id("prompt"));
		prompt.click();
		prompt.sendKeys("Tell me a story");
		tabUntil("send").sendKeys(Keys.ENTER);
		waitFor().until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#messages li.user"),
				"Tell me a story"));
		visible(By.id("stop"));
		awaitStreamedText();

		browser.findElement(By.id("prompt")).click();
		WebElement stop = tabUntil("stop");
		String outline = (String) browser.executeScript(
				"const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth;");
		assertThat(outline).as("the focused button shows its focus").doesNotStartWith("none").doesNotEndWith(" 0px");
		screenshot("keyboard-focus-on-stop");
		stop.sendKeys(Keys.ENTER);
		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));

		for (WebElement button : browser.findElements(By.cssSelector("button"))) {
			// (hidden ones too: their text is not "visible", so read the DOM)
			String text = String.valueOf(button.getDomProperty("textContent")).strip();
			String name = text.isEmpty() ? button.getDomAttribute("aria-label") : text;
			assertThat(name).as("every button has a name: %s", button.getAttribute("outerHTML")).isNotBlank();
		}
		for (WebElement field : browser.findElements(By.cssSelector("input:not([type=checkbox]), textarea"))) {
			assertThat(browser.findElements(By.cssSelector("label[for='" + field.getAttribute("id") + "']")))
				.as("field %s has a label", field.getAttribute("id"))
				.isNotEmpty();
		}
	}

	/** Presses Tab until the element with this id has the focus (at most 10 times). */
	private WebElement tabUntil(String id) {
		for (int i = 0; i < 10; i++) {
			WebElement focused = browser.switchTo().activeElement();
			if (id.equals(focused.getAttribute("id"))) {
				return focused;
			}
			focused.sendKeys(Keys.TAB);
		}
		throw new AssertionError("Tab never reached #" + id);
	}

	private void signIn() {
		browser.get(cluster.gatewayUrl(0) + "/");
		WebElement name = browser.findElement(By.id("user"));
		name.clear();
		name.sendKeys(user);
		browser.findElement(By.cssSelector("#signin button")).click();
		waitFor().until(ExpectedConditions.textToBe(By.id("whoami"), "Signed in as " + user));
	}

	private void send(String prompt) {
		browser.findElement(By.id("prompt")).sendKeys(prompt);
		browser.findElement(By.id("send")).click();
		waitFor()
			.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#messages li.user"), prompt));
	}

	private String awaitStreamedText() {
		waitFor().until(driver -> !text().isBlank());
		return text();
	}

	private String text() {
		List<WebElement> answers = browser.findElements(By.cssSelector("#messages li.assistant .text"));
		return answers.isEmpty() ? "" : answers.get(answers.size() - 1).getText();
	}

	private WebElement visible(By locator) {
		return waitFor().until(ExpectedConditions.visibilityOfElementLocated(locator));
	}

	private WebDriverWait waitFor() {
		return new WebDriverWait(browser, BOUND);
	}

	private void screenshot(String name) {
		HeadlessChrome.screenshot(browser, testName + "-" + name);
	}

}
