package io.stopline.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.Rectangle;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chat page as people expect it, in headless Chromium at desktop (1280×800) and phone
 * (390×844, 360×740) sizes: Markdown rendered and sanitized against hostile model output,
 * a message pane that follows the answer, Stop in Send's place, the keys, drawers on
 * phones, one send per double click, a user switch that clears the screen, the list
 * following other clients, errors kept in the answer's bubble, input checks, themes, and
 * an axe-core audit with no serious or critical violation. Screenshots go to
 * {@code target/browser-screenshots/}.
 */
class ChatPageBrowserTests {

	private static final Duration BOUND = Duration.ofSeconds(15);

	/**
	 * Model output a page must not trust: script, event handlers, javascript: links,
	 * frames, forms.
	 */
	private static final String HOSTILE = """
			# Plan

			Some **bold** words and a [good link](https://example.org).

			| step | what |
			|------|------|
			| 1 | stop |

			```java
			System.out.println("copy me");
			```

			<script>window.pwned = 'script'</script>
			<img src="x" onerror="window.pwned = 'onerror'">
			[click me](javascript:window.pwned='link')
			<a href="javascript:window.pwned='anchor'" onclick="window.pwned='onclick'">anchor</a>
			<iframe src="javascript:window.pwned='iframe'"></iframe>
			<form action="/v1/conversations/stop" method="post"><button>Stop everything</button></form>
			<svg onload="window.pwned='svg'"></svg>

			- one
			- two
			""";

	private static ScriptedUpstream upstream;

	private static Cluster cluster;

	private ChromeDriver browser;

	private String user;

	private String testName;

	@BeforeAll
	static void startCluster() throws IOException {
		upstream = ScriptedUpstream.start(Map.of("hostile", chunks(HOSTILE, 12), "long",
				IntStream.range(0, 400).mapToObj((i) -> "Line " + i + " of a long answer.\n\n").toList(), "broken",
				List.of()), Duration.ofMillis(25));
		Map<String, String> workers = new java.util.LinkedHashMap<>(upstream.workerProperties());
		workers.put("stopline.model.simulated.token-delay", "60ms");
		cluster = Cluster.start(TestRedis.shared(), 1, 1, workers,
				Map.of("stopline.agents.names", "assistant,hostile,long,broken"));
	}

	@AfterAll
	static void stopCluster() {
		if (cluster != null) {
			cluster.close();
		}
		if (upstream != null) {
			upstream.close();
		}
	}

	@BeforeEach
	void openBrowser(TestInfo info) {
		testName = info.getTestMethod().orElseThrow().getName();
		browser = HeadlessChrome.open(1280, 800);
		user = "chat-" + UUID.randomUUID().toString().substring(0, 8);
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
	void markdownIsRenderedAndHostileModelOutputIsSanitized() {
		signIn();
		chooseAgent("hostile");
		send("Plan it");
		waitFor().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#messages li.assistant.complete")));
		WebElement answer = browser.findElement(By.cssSelector("#messages li.assistant .text"));
		assertThat(answer.findElements(By.tagName("h1"))).hasSize(1);
		assertThat(answer.findElements(By.cssSelector("strong"))).isNotEmpty();
		assertThat(answer.findElements(By.cssSelector("table td"))).hasSize(2);
		assertThat(answer.findElements(By.cssSelector("ul li"))).hasSize(2);
		assertThat(answer.findElement(By.cssSelector("pre code")).getText()).contains("System.out.println");
		assertThat(answer.findElement(By.cssSelector("pre button.copy")).getText()).isEqualTo("Copy");
		assertThat(answer.findElement(By.cssSelector("a[href='https://example.org']")).getDomAttribute("rel"))
			.contains("noopener");

		Object pwned = browser.executeScript("return window.pwned || null");
		assertThat(pwned).as("hostile model output ran nothing").isNull();
		assertThat(answer.findElements(By.cssSelector("script, iframe, form, svg, img[onerror], [onclick]"))).isEmpty();
		assertThat((Long) browser.executeScript(
				"""
						return [...document.querySelectorAll('#messages *')].filter((e) =>
						  [...e.attributes].some((a) => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))).length"""))
			.as("no event handler attributes or javascript: URLs")
			.isZero();
		screenshot("markdown");
	}

	@Test
	void thePaneFollowsTheAnswerUnlessTheUserScrolledUp() {
		signIn();
		chooseAgent("long");
		send("A long answer please");
		waitFor().until((driver) -> number("return pane.scrollHeight > pane.clientHeight * 2 ? 1 : 0") == 1);
		assertThat(number("return pane.scrollHeight - pane.scrollTop - pane.clientHeight")).as("follows the answer")
			.isLessThan(60);

		browser.executeScript("pane.scrollTop = 0; pane.dispatchEvent(new Event('scroll'))");
		WebElement jump = visible(By.id("jump"));
		long heightBefore = number("return pane.scrollHeight");
		waitFor().until((driver) -> number("return pane.scrollHeight") > heightBefore + 100);
		assertThat(number("return pane.scrollTop")).as("stays where the user scrolled").isLessThan(60);
		screenshot("scrolled-up");

		jump.click();
		waitFor().until(ExpectedConditions.invisibilityOf(jump));
		waitFor().until((driver) -> number("return pane.scrollHeight - pane.scrollTop - pane.clientHeight") < 60);
		assertThat(browser.switchTo().activeElement().getDomAttribute("id")).isEqualTo("prompt");
	}

	@Test
	void stopTakesSendsPlaceInAComposerPinnedToTheBottom() {
		for (Dimension size : List.of(new Dimension(1280, 800), new Dimension(390, 844))) {
			browser.manage().window().setSize(size);
			signIn();
			Rectangle send = browser.findElement(By.id("send")).getRect();
			send("Tell me a story");
			WebElement stop = visible(By.id("stop"));
			assertThat(browser.findElement(By.id("send")).isDisplayed()).as("Send gives way to Stop").isFalse();
			assertThat(Math.abs(stop.getRect().getX() + stop.getRect().getWidth() - send.getX() - send.getWidth()))
				.as("Stop sits where Send was")
				.isLessThan(40);
			long viewport = number("return window.innerHeight");
			assertThat((long) (stop.getRect().getY() + stop.getRect().getHeight())).as("Stop stays on screen")
				.isLessThanOrEqualTo(viewport);
			awaitStreamedText();
			long inner = number("return document.documentElement.scrollHeight - window.innerHeight");
			assertThat(inner).as("the page does not grow; the pane scrolls").isLessThanOrEqualTo(1);
			screenshot("stop-in-sends-place-" + size.getWidth());
			stop.click();
			waitFor().until(ExpectedConditions.visibilityOfElementLocated(By.id("send")));
			browser.findElement(By.id("signout")).click();
		}
	}

	@Test
	void enterSendsShiftEnterMakesANewLineEscapeStopsAndTheFocusStaysInTheComposer() {
		signIn();
		WebElement prompt = browser.findElement(By.id("prompt"));
		prompt.sendKeys("first line", Keys.chord(Keys.SHIFT, Keys.ENTER), "second line");
		assertThat(prompt.getDomProperty("value")).isEqualTo("first line\nsecond line");
		prompt.sendKeys(Keys.ENTER);
		waitFor().until(
				ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#messages li.user"), "second line"));
		assertThat(browser.findElement(By.cssSelector("#messages li.user")).getText())
			.isEqualTo("first line\nsecond line");
		visible(By.id("stop"));
		assertThat(focused()).isEqualTo("prompt");
		awaitStreamedText();

		browser.switchTo().activeElement().sendKeys(Keys.ESCAPE);
		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));
		assertThat(focused()).isEqualTo("prompt");
		waitFor().until(ExpectedConditions.textToBePresentInElementLocated(By.id("announcer"), "Stopped"));
		assertThat(browser.findElement(By.id("status")).getText()).as("the stop shows once, in the bubble").isEmpty();
	}

	@Test
	void onA360PixelPhoneTheListsAreDrawersAndNothingOverflows() {
		browser.manage().window().setSize(new Dimension(360, 740));
		signIn();
		send("Tell me a story");
		awaitStreamedText();
		assertThat(number("return document.documentElement.scrollWidth")).as("no sideways scrolling")
			.isLessThanOrEqualTo(number("return window.innerWidth"));
		assertThat(browser.findElement(By.id("sidebar")).isDisplayed()).isFalse();
		assertThat(browser.findElement(By.id("active-panel")).isDisplayed()).isFalse();
		screenshot("phone-chat");

		browser.findElement(By.id("open-active")).click();
		WebElement panel = visible(By.id("active-panel"));
		waitFor().until((driver) -> panel.getRect().getX() + panel.getRect().getWidth() <= 361);
		waitFor().until((driver) -> driver.findElements(By.cssSelector("#active li")).size() == 1);
		screenshot("phone-active-drawer");
		browser.switchTo().activeElement().sendKeys(Keys.ESCAPE);
		waitFor().until(ExpectedConditions.invisibilityOf(panel));

		browser.findElement(By.id("open-conversations")).click();
		visible(By.id("sidebar"));
		waitFor().until((driver) -> !driver.findElements(By.cssSelector("#conversations li")).isEmpty());
		screenshot("phone-conversations-drawer");
		browser.findElement(By.cssSelector("#conversations li button")).click();
		waitFor().until(ExpectedConditions.invisibilityOfElementLocated(By.id("sidebar")));
		browser.findElement(By.id("stop")).click();
		waitFor().until(ExpectedConditions.textToBe(By.cssSelector("#messages li.assistant .marker"), "stopped"));
	}

	@Test
	void aDoubleClickOnSendSendsOneMessage() {
		signIn();
		browser.findElement(By.id("prompt")).sendKeys("Only once");
		browser.executeScript("""
				window.chats = 0;
				const fetch = window.fetch;
				window.fetch = (url, init) => {
				  if (String(url).endsWith('/v1/chat/completions')) window.chats++;
				  return fetch(url, init);
				};
				const b = document.getElementById('send');
				b.click(); b.click(); b.click();
				setTimeout(() => b.click(), 0);""");
		visible(By.id("stop"));
		long requests = number("return window.chats");
		assertThat(requests).as("chat requests sent").isEqualTo(1);
		assertThat(browser.findElements(By.cssSelector("#messages li.user"))).hasSize(1);
		assertThat(browser.findElement(By.id("status")).getText()).isEmpty();
	}

	@Test
	void signingOutAndInAsAnotherUserClearsEverythingOfThePrevious() {
		signIn();
		send("Secret of the first user");
		awaitStreamedText();
		waitFor().until((driver) -> !driver.findElements(By.cssSelector("#conversations li")).isEmpty());
		browser.findElement(By.id("signout")).click();
		assertThat(browser.findElements(By.cssSelector("#messages li, #conversations li, #active li"))).isEmpty();
		assertThat(browser.getCurrentUrl()).doesNotContain("#");

		String other = "other-" + UUID.randomUUID().toString().substring(0, 8);
		signInAs(other);
		assertThat(browser.findElement(By.tagName("body")).getText()).doesNotContain("Secret of the first user");
		browser.navigate().refresh();
		waitFor().until(ExpectedConditions.textToBe(By.id("whoami"), "Signed in as " + other));
		assertThat(browser.findElement(By.id("user")).getDomProperty("value")).isEqualTo(other);
		screenshot("other-user");
		cluster.api(0, other).stopAll();
	}

	@Test
	void theConversationListFollowsConversationsStartedElsewhere() {
		signIn();
		Api otherClient = cluster.api(0, user);
		String id = "c-" + UUID.randomUUID();
		otherClient.chatStream(id, 3);
		WebElement entry = waitFor().until(ExpectedConditions
			.presenceOfElementLocated(By.cssSelector("#conversations button[data-id='" + id + "']")));
		waitFor().until((driver) -> entry.findElement(By.className("title")).getText().equals("Tell me a story"));
		assertThat(entry.findElement(By.className("when")).getText()).matches(".*\\d.*");
	}

	@Test
	void aFailedAnswerShowsItsErrorInItsBubbleWithARetryAlsoAfterAReload() {
		signIn();
		chooseAgent("broken");
		send("This will fail");
		WebElement failed = waitFor()
			.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#messages li.assistant.failed")));
		assertThat(failed.findElement(By.className("error-text")).getText()).isNotBlank();
		assertThat(failed.findElement(By.className("retry")).isDisplayed()).isTrue();
		assertThat(browser.findElement(By.id("status")).getText()).as("the error shows in the bubble only").isEmpty();
		screenshot("failed");

		browser.navigate().refresh();
		WebElement again = waitFor()
			.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#messages li.assistant.failed")));
		assertThat(again.findElement(By.className("error-text")).getText()).isNotBlank();
		chooseAgent("assistant");
		again.findElement(By.className("retry")).click();
		waitFor().until((driver) -> driver.findElements(By.cssSelector("#messages li.user")).size() == 2);
		visible(By.id("stop")).click();
	}

	@Test
	void theInputIsCheckedWithHumanMessages() {
		signIn();
		WebElement prompt = browser.findElement(By.id("prompt"));
		prompt.sendKeys("   ", Keys.ENTER);
		waitFor().until(ExpectedConditions.textToBe(By.id("prompt-hint"), "Type a message first."));
		assertThat(browser.findElements(By.cssSelector("#messages li"))).isEmpty();

		browser.executeScript("""
				const p = document.getElementById('prompt');
				p.value = 'x'.repeat(100001);
				p.dispatchEvent(new Event('input'));""");
		waitFor()
			.until(ExpectedConditions.textToBePresentInElementLocated(By.id("prompt-hint"), "the limit is 100,000"));
		browser.findElement(By.id("send")).click();
		assertThat(browser.findElements(By.cssSelector("#messages li"))).isEmpty();
		assertThat(browser.findElement(By.id("prompt-hint")).getText()).doesNotContain("size must be");
		browser.findElement(By.id("stop-selected")).click();
		waitFor().until(ExpectedConditions.textToBe(By.id("active-status"), "Select at least one conversation first."));
	}

	@Test
	void theAxeAuditFindsNoSeriousOrCriticalViolationInLightAndDarkAtDesktopAndPhoneSizes() throws IOException {
		signIn();
		chooseAgent("hostile");
		send("Plan it");
		waitFor().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#messages li.assistant.complete")));
		List<String> violations = new ArrayList<>();
		for (String scheme : List.of("light", "dark")) {
			browser.executeCdpCommand("Emulation.setEmulatedMedia",
					Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", scheme))));
			for (Dimension size : List.of(new Dimension(1280, 800), new Dimension(390, 844))) {
				browser.manage().window().setSize(size);
				violations.addAll(axe(scheme + " " + size.getWidth()));
				screenshot("axe-" + scheme + "-" + size.getWidth());
			}
		}
		String background = (String) browser.executeScript("return getComputedStyle(document.body).backgroundColor");
		assertThat(background).as("the dark theme follows the system").isEqualTo("rgb(18, 18, 22)");
		assertThat(violations).as("serious or critical accessibility violations").isEmpty();
	}

	/**
	 * Runs axe-core (the WebJar) on the page; the serious and critical violations,
	 * described.
	 */
	@SuppressWarnings("unchecked")
	private List<String> axe(String where) throws IOException {
		try (InputStream in = getClass()
			.getResourceAsStream("/META-INF/resources/webjars/axe-core/" + axeVersion() + "/axe.min.js")) {
			browser.executeScript(new String(in.readAllBytes(), StandardCharsets.UTF_8));
		}
		List<Map<String, Object>> found = (List<Map<String, Object>>) browser.executeAsyncScript("""
				const done = arguments[arguments.length - 1];
				axe.run(document, { resultTypes: ['violations'] }).then((r) => done(r.violations.map((v) =>
				  ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).join(', ') }))));""");
		System.out.println("[axe] " + where + ": " + found);
		return found.stream()
			.filter((v) -> List.of("serious", "critical").contains(v.get("impact")))
			.map((v) -> where + ": " + v)
			.toList();
	}

	private static String axeVersion() throws IOException {
		try (InputStream in = ChatPageBrowserTests.class
			.getResourceAsStream("/META-INF/maven/org.webjars.npm/axe-core/pom.properties")) {
			java.util.Properties properties = new java.util.Properties();
			properties.load(in);
			return properties.getProperty("version");
		}
	}

	private void signIn() {
		browser.get(cluster.gatewayUrl(0) + "/");
		browser.executeScript("window.pane = document.getElementById('pane')");
		signInAs(user);
	}

	private void signInAs(String name) {
		WebElement field = visible(By.id("user"));
		field.clear();
		field.sendKeys(name);
		browser.findElement(By.cssSelector("#signin button")).click();
		waitFor().until(ExpectedConditions.textToBe(By.id("whoami"), "Signed in as " + name));
		browser.executeScript("window.pane = document.getElementById('pane')");
	}

	private void chooseAgent(String agent) {
		waitFor()
			.until((driver) -> driver.findElements(By.cssSelector("#agent option[value='" + agent + "']")).size() == 1);
		new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("agent"))).selectByValue(agent);
	}

	private void send(String prompt) {
		browser.findElement(By.id("prompt")).sendKeys(prompt);
		browser.findElement(By.id("send")).click();
		waitFor()
			.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#messages li.user"), prompt));
	}

	private void awaitStreamedText() {
		waitFor().until((driver) -> {
			List<WebElement> answers = driver.findElements(By.cssSelector("#messages li.assistant .text"));
			return !answers.isEmpty() && !answers.get(answers.size() - 1).getText().isBlank();
		});
	}

	private String focused() {
		return browser.switchTo().activeElement().getDomAttribute("id");
	}

	private long number(String script) {
		return ((Number) browser.executeScript(script)).longValue();
	}

	private WebElement visible(By locator) {
		return waitFor().until(ExpectedConditions.visibilityOfElementLocated(locator));
	}

	private WebDriverWait waitFor() {
		return new WebDriverWait(browser, BOUND);
	}

	private void screenshot(String name) {
		HeadlessChrome.screenshot(browser, "chat-" + testName + "-" + name);
	}

	private static List<String> chunks(String text, int size) {
		List<String> chunks = new ArrayList<>();
		for (int i = 0; i < text.length(); i += size) {
			chunks.add(text.substring(i, Math.min(text.length(), i + size)));
		}
		return chunks;
	}

}
